package manager

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/scheme"
	"github.com/driftless/driftless/internal/reconcile"
)

type collect struct {
	mu  sync.Mutex
	got []eventv1.Event
}

func (c *collect) Submit(e eventv1.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, e)
	return nil
}

func (c *collect) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

type countSink struct{ n int }

func (c *countSink) Event(runtime.Object, map[string]string, string, string, string) { c.n++ }

// A group's sink records every event for Kubernetes and, once the relay
// has a target, queues it as a Flux event for that target.
func TestRelayTeesToItsTarget(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	relay := NewRelay(16, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay.start(ctx)
	rec := &countSink{}
	sink := relay.sink(rec, s, "kustomize-controller")
	obj := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"}}

	sink.Event(obj, nil, corev1.EventTypeWarning, "BuildFailed", "before a target")
	target := &collect{}
	relay.SetTarget(target)
	sink.Event(obj, nil, corev1.EventTypeWarning, "BuildFailed", "after")
	waitFor(t, "the event reaches the target", func() bool { return target.len() == 1 })
	if rec.n != 2 {
		t.Errorf("the recorder got %d events, want 2", rec.n)
	}
	e := target.got[0]
	if e.Message != "after" || e.ReportingController != "kustomize-controller" || e.InvolvedObject.Kind != "Kustomization" ||
		e.Severity != eventv1.EventSeverityError {
		t.Errorf("event %+v", e)
	}
	if relay.Queue().Dropped() != 0 || relay.Queue().Sent() != 1 {
		t.Errorf("dropped %d, sent %d", relay.Queue().Dropped(), relay.Queue().Sent())
	}
	reg := prometheus.NewRegistry()
	if err := relay.registerMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if err := relay.registerMetrics(reg); err != nil {
		t.Errorf("a second registration: %v", err)
	}
	want := `
# HELP driftless_notification_relay_events_total Flux events of this process's controllers handed to the notification dispatcher or --events-addr, by result.
# TYPE driftless_notification_relay_events_total counter
driftless_notification_relay_events_total{result="dropped"} 0
driftless_notification_relay_events_total{result="rate_limited"} 0
driftless_notification_relay_events_total{result="sent"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// At the end of Run, the Flux events still queued are handed over before
// the relay stops, not dropped.
func TestDrainHandsOverQueuedFluxEvents(t *testing.T) {
	relay := NewRelay(16, logr.Discard())
	target := &collect{}
	relay.SetTarget(target)
	for range 5 {
		relay.queue.Enqueue(fluxEvent("last pass"))
	}
	senders := &eventSenders{events: reconcile.NewEvents(&slowSink{gate: make(chan struct{})}, 1, logr.Discard()), relay: relay}
	relay.start(context.Background())
	senders.drain(10 * time.Second)
	if relay.Queue().Dropped() != 0 {
		t.Errorf("dropped %d at shutdown", relay.Queue().Dropped())
	}
	waitFor(t, "the last one handed over", func() bool { return target.len() == 5 })
}
