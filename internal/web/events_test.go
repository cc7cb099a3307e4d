package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
	"github.com/driftless/driftless/internal/web/eventsource"
)

// eventsSectionOf is the Events section of a page, "" when it has none.
func eventsSectionOf(page string) string {
	start := strings.Index(page, `<section id="events"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(page[start:], "</section>")
	return page[start : start+end+len("</section>")]
}

func TestEventsNewestFirstWarningMarkedRelatedIncluded(t *testing.T) {
	sec := eventsSectionOf(get(t, newTestServer(), brokenPage).Body.String())
	if sec == "" {
		t.Fatal("the object page has no Events section")
	}
	// Newest first: the build failure (40m), the source's artifact (2h,
	// a related object's event), the progress (3h).
	order := []string{evBuildFailed, evArtifact, evProgressing}
	last := -1
	for _, m := range order {
		i := strings.Index(sec, m)
		if i < 0 {
			t.Fatalf("the section lacks %q:\n%s", m, sec)
		}
		if i < last {
			t.Errorf("%q is shown before an older event: want newest first\n%s", m, sec)
		}
		last = i
	}
	for _, m := range []string{evOtherObject, evOtherKind, evHidden} {
		if strings.Contains(sec, m) {
			t.Errorf("the section shows %q, an event of an object neither this nor related", m)
		}
	}
	warning := `<span class="status status-fail"><span class="icon" aria-hidden="true">⚠</span> Warning</span>`
	if strings.Count(sec, warning) != 1 {
		t.Errorf("want the one Warning marked with icon and word:\n%s", sec)
	}
	if !strings.Contains(sec, `<time datetime="2026-12-07T11:20:00Z" title="2026-12-07T11:20:00Z">40m ago</time>`) {
		t.Errorf("the age has no absolute time in its title:\n%s", sec)
	}
	if !strings.Contains(sec, `>GitRepository flux-system/flux-system</a>`) {
		t.Errorf("the related object's event does not name it with its namespace:\n%s", sec)
	}
}

func TestEventsMessageRendersAsText(t *testing.T) {
	sec := eventsSectionOf(get(t, newTestServer(), "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/untrusted").Body.String())
	if strings.Contains(sec, "<script>") || strings.Contains(sec, "<b>") {
		t.Errorf("an event message renders as HTML:\n%s", sec)
	}
	if !strings.Contains(sec, `<pre>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</pre>`) {
		t.Errorf("the message is not shown whole, as text:\n%s", sec)
	}
}

func TestEventsLeftOutWithoutSource(t *testing.T) {
	opts := testOptions()
	opts.Events = nil
	page := get(t, New(opts), brokenPage).Body.String()
	if strings.Contains(page, `id="events"`) || strings.Contains(page, evBuildFailed) {
		t.Error("without Options.Events the page still has an Events section")
	}
}

func TestEventsCappedAtTheNewest50(t *testing.T) {
	var objs []runtime.Object
	for i := range 60 {
		objs = append(objs, fixtureEvent(fmt.Sprint(i), "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", "broken",
			corev1.EventTypeNormal, "Tick", fmt.Sprintf("tick %02d<", i), time.Duration(i)*time.Minute, 1))
	}
	opts := testOptions()
	opts.Events = eventsource.New(fake.NewClientset(objs...))
	sec := eventsSectionOf(get(t, New(opts), brokenPage).Body.String())
	if n := strings.Count(sec, "<tr>") - 1; n != 50 { // minus the header row
		t.Errorf("%d events shown, want 50", n)
	}
	if !strings.Contains(sec, "tick 00&lt;") || !strings.Contains(sec, "tick 49&lt;") || strings.Contains(sec, "tick 50&lt;") {
		t.Errorf("want the newest 50 (tick 00 to 49) shown:\n%s", sec)
	}
	if !strings.Contains(sec, "10 older events are not") {
		t.Errorf("the section does not say 10 more are left out:\n%s", sec)
	}
	golden(t, "events-capped.html", []byte(sec))
}

// askedAccess is an Access that records its questions and lets the
// viewer read every object but list events nowhere.
type askedAccess struct {
	mu    sync.Mutex
	asked []string
}

func (a *askedAccess) Allowed(_ context.Context, u auth.User, verb, group, resource, namespace, name string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, strings.Join([]string{u.Name, verb, group, resource, namespace, name}, "|"))
	return resource != "events", nil
}

func TestEventsDeniedViewerSeesTheNoticeOnly(t *testing.T) {
	access := &askedAccess{}
	opts := testOptions()
	opts.Access = access
	page := get(t, New(opts), brokenPage).Body.String()
	sec := eventsSectionOf(page)
	for _, m := range []string{evBuildFailed, evProgressing, evArtifact, "NewArtifact"} {
		if strings.Contains(page, m) {
			t.Errorf("a viewer who may not list events sees %q", m)
		}
	}
	if sec == "" || strings.Contains(sec, "<tbody>") {
		t.Errorf("want the section with no event rows:\n%s", sec)
	}
	for _, ns := range []string{"apps", "flux-system"} {
		if !strings.Contains(sec, "you may not list events in "+ns+".") {
			t.Errorf("no notice for namespace %s:\n%s", ns, sec)
		}
	}
	// One check per namespace: the object's and its source's.
	for _, want := range []string{auth.AnonymousName + "|list||events|apps|", auth.AnonymousName + "|list||events|flux-system|"} {
		if !slices.Contains(access.asked, want) {
			t.Errorf("the UI did not ask %q; asked %q", want, access.asked)
		}
	}
}

// With the fixtures' RBAC (apps only), the object's events show and its
// source's, in flux-system, do not.
func TestEventsRelatedNamespaceCheckedOnItsOwn(t *testing.T) {
	rbac := &fakeRBAC{}
	body := get(t, New(rbacOptions(rbac)), brokenPage).Body.String()
	sec := eventsSectionOf(body)
	if !strings.Contains(sec, evBuildFailed) || !strings.Contains(sec, evProgressing) {
		t.Errorf("the events of apps, which the viewer may list, are missing:\n%s", sec)
	}
	if !strings.Contains(sec, "you may not list events in flux-system.") || strings.Contains(sec, "you may not list events in apps") {
		t.Errorf("want the notice for flux-system only:\n%s", sec)
	}
	checkFiltered(t, "the object page's events", body)
	if strings.Contains(body, evArtifact) {
		t.Error("the source's event in flux-system shows")
	}
	golden(t, "events-denied-related.html", []byte(sec))
}

// scriptedEvents is an EventSource whose answers a test sets: List's
// error, and Watch fails its first failWatches calls, then hands out
// watchers the test drives.
type scriptedEvents struct {
	listErr     error
	failWatches int

	mu       sync.Mutex
	calls    int
	watchers []*watch.FakeWatcher
	watched  chan kinds.Ref
}

func (s *scriptedEvents) List(context.Context, kinds.Ref) ([]corev1.Event, error) {
	return nil, s.listErr
}

func (s *scriptedEvents) Watch(_ context.Context, ref kinds.Ref) (watch.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.failWatches {
		return nil, errors.New("connection refused")
	}
	w := watch.NewFakeWithChanSize(10, false)
	s.watchers = append(s.watchers, w)
	if s.watched != nil {
		s.watched <- ref
	}
	return w, nil
}

// flux ui reads with the user's credentials: Forbidden reads as the
// in-cluster refusal does.
func TestEventsForbiddenWithoutAccessReadsAsDenied(t *testing.T) {
	opts := testOptions()
	opts.Events = &scriptedEvents{listErr: apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", errors.New("no"))}
	sec := eventsSectionOf(get(t, New(opts), brokenPage).Body.String())
	if !strings.Contains(sec, "you may not list events in apps.") || !strings.Contains(sec, "you may not list events in flux-system.") {
		t.Errorf("a Forbidden answer does not read as a refusal:\n%s", sec)
	}
}

func TestStreamSendsNewEvents(t *testing.T) {
	cs := fake.NewClientset(fixtureEvents()...)
	store, srv, _ := liveServer(t, func(o *Options) { o.Events = eventsource.New(cs) })
	ch := openStream(t, srv, "/events"+brokenPage)
	const msg = "health check failed <script>alert(1)</script>"
	newEvent := fixtureEvent("9", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", "broken", corev1.EventTypeWarning,
		"HealthCheckFailed", msg, time.Second, 1)
	if _, err := cs.CoreV1().Events("apps").Create(context.Background(), newEvent, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch, func(e sseEvent) bool {
		return e.Name == "events" && strings.Contains(e.Data, "health check failed &lt;script&gt;")
	})
	if ev == nil {
		t.Fatal("no events fragment with the new event")
	}
	if !strings.HasPrefix(ev.Data, `<section id="events" sse-swap="events" hx-swap="outerHTML"`) || strings.Contains(ev.Data, "<script>") {
		t.Errorf("events fragment:\n%s", ev.Data)
	}
	if i, j := strings.Index(ev.Data, "health check failed"), strings.Index(ev.Data, evBuildFailed); i < 0 || j < 0 || i > j {
		t.Errorf("the new event is not first, before the older ones:\n%s", ev.Data)
	}
	// The same template as the page: the section as the page renders it now.
	opts := testOptions()
	opts.Store, opts.Events = store, eventsource.New(cs)
	if page := get(t, New(opts), brokenPage).Body.String(); eventsSectionOf(page) != ev.Data {
		t.Errorf("the fragment is not the page's section:\n%s\npage:\n%s", ev.Data, eventsSectionOf(page))
	}
}

// A failing watch does not end the stream: it is started again, the
// events then reach the stream, and the watch ends with the stream.
func TestStreamEventsWatchRetriesAndEndsWithTheStream(t *testing.T) {
	first := eventsRetryFirst
	eventsRetryFirst = 5 * time.Millisecond
	t.Cleanup(func() { eventsRetryFirst = first })
	src := &scriptedEvents{failWatches: 3, watched: make(chan kinds.Ref, 10)}
	_, srv, _ := liveServer(t, func(o *Options) { o.Events = src; o.Heartbeat = 20 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events"+brokenPage, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan sseEvent, 100)
	go func() { defer close(ch); defer resp.Body.Close(); readEvents(resp.Body, ch) }()

	// Two watches come up, the object's and its source's, after three
	// failures between them.
	var refs []string
	for len(refs) < 2 {
		select {
		case r := <-src.watched:
			refs = append(refs, r.Kind+" "+r.Namespace+"/"+r.Name)
		case <-time.After(5 * time.Second):
			t.Fatalf("the watches did not come up again after failing; up: %v", refs)
		}
	}
	slices.Sort(refs)
	if want := []string{"GitRepository flux-system/flux-system", "Kustomization apps/broken"}; !slices.Equal(refs, want) {
		t.Errorf("watched %v, want %v", refs, want)
	}
	if ev := next(t, ch, func(e sseEvent) bool { return e.Comment == "heartbeat" }); ev == nil {
		t.Fatal("the stream ended while the watches failed")
	}
	src.mu.Lock()
	w := src.watchers[0]
	src.mu.Unlock()
	w.Add(&corev1.Event{})
	if ev := next(t, ch, named("events")); ev == nil || !strings.Contains(ev.Data, `id="events"`) {
		t.Fatalf("no events fragment after the watch sent an event: %+v", ev)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		src.mu.Lock()
		stopped := true
		for _, w := range src.watchers {
			stopped = stopped && w.IsStopped()
		}
		src.mu.Unlock()
		if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watches were not stopped when the stream ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The stream's fragment is checked as the page is: with the fixtures'
// RBAC, a visible object's fragment leaves flux-system's events out, and a
// hidden object's stream watches nothing.
func TestStreamEventsFollowRBAC(t *testing.T) {
	cs := fake.NewClientset(fixtureEvents()...)
	rbac := &fakeRBAC{}
	_, srv, _ := liveServer(t, func(o *Options) {
		o.Events = eventsource.New(cs)
		o.Access = auth.NewAccess(rbac, auth.AccessOptions{Now: o.Now})
	})
	hidden := openStream(t, srv, "/events/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps")
	ch := openStream(t, srv, "/events"+brokenPage)
	ev := next(t, ch, named("events"))
	if ev == nil {
		t.Fatal("no events fragment for the visible object")
	}
	checkFiltered(t, "the events fragment", ev.Data)
	if !strings.Contains(ev.Data, evBuildFailed) || !strings.Contains(ev.Data, "you may not list events in flux-system.") {
		t.Errorf("events fragment:\n%s", ev.Data)
	}
	quiet(t, hidden, 300*time.Millisecond, "the hidden object's stream")
	for _, a := range cs.Actions() {
		if a.GetVerb() == "watch" && a.GetNamespace() == "flux-system" {
			t.Errorf("a stream watched events in flux-system, which the viewer may not list: %+v", a)
		}
	}
}

// Pointing the object at another source moves the stream's watch: the new
// source's events reach it. No event exists at first, so that nothing but
// the new watch can send the section.
func TestStreamEventsFollowANewSource(t *testing.T) {
	cs := fake.NewClientset()
	store, srv, _ := liveServer(t, func(o *Options) { o.Events = eventsource.New(cs) })
	ch := openStream(t, srv, "/events"+brokenPage)
	moved := broken("")
	moved.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "other-repo"}
	store.Add(moved)
	const msg = "an event of the new source"
	newSource := fixtureEvent("1", "source.toolkit.fluxcd.io/v1", "GitRepository", "apps", "other-repo", corev1.EventTypeNormal,
		"NewArtifact", msg, time.Second, 1)
	if _, err := cs.CoreV1().Events("apps").Create(context.Background(), newSource, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch, func(e sseEvent) bool { return e.Name == "events" && strings.Contains(e.Data, msg) })
	if ev == nil {
		t.Fatal("the new source's event did not reach the stream")
	}
	if !strings.Contains(ev.Data, ">GitRepository/other-repo</a>") {
		t.Errorf("the event does not name the new source:\n%s", ev.Data)
	}
}
