package web

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/driftless/driftless/internal/testkit/browser"
	"github.com/driftless/driftless/internal/web/eventsource"
)

// An event recorded while the object page is open swaps the Events section
// in place, under the CSP, newest first, its message as text.
func TestBrowserLiveEventsSwapInPlace(t *testing.T) {
	b := browser.Start(t)
	cs := fake.NewClientset(fixtureEvents()...)
	_, srv, ui := liveServer(t, func(o *Options) { o.Events = eventsource.New(cs) })
	p := b.Open(t, srv.URL+brokenPage)
	waitStreams(t, ui, 1)
	browser.Evaluate[bool](p, "window.liveMarker = 'still here'; true")

	ev := fixtureEvent("9", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", "broken", corev1.EventTypeWarning,
		"HealthCheckFailed", "live event <b>not bold</b>", time.Second, 1)
	if _, err := cs.CoreV1().Events("apps").Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the first event row is the new one",
		"document.querySelector('#events tbody tr') !== null && document.querySelector('#events tbody tr').textContent.includes('live event <b>not bold</b>')")
	if !browser.Evaluate[bool](p, "document.getElementById('events').textContent.includes("+jsString(evBuildFailed)+")") {
		t.Error("the older events went from the section")
	}
	if n := browser.Evaluate[int](p, "performance.getEntriesByType('navigation').length"); n != 1 {
		t.Errorf("%d navigations, want 1: the page reloaded", n)
	}
	if m := browser.Evaluate[string](p, "String(window.liveMarker)"); m != "still here" {
		t.Errorf("the marker is %q: the page was replaced", m)
	}
	if n := p.Count("main b"); n != 0 {
		t.Errorf("%d <b> in main: markup from an event message was parsed", n)
	}
	p.Screenshots("live-events")
	p.CheckClean(srv.URL)
}
