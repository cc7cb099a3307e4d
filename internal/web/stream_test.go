package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// sseEvent is one event or comment read from a stream.
type sseEvent struct {
	Name, Data, Comment string
	At                  time.Time
}

// liveServer is the UI over a fresh store of the fixtures.
func liveServer(t *testing.T, mod func(*Options)) (*MemoryStore, *httptest.Server, *UI) {
	t.Helper()
	opts := testOptions()
	store := NewMemoryStore(fixtures()...)
	opts.Store = store
	if mod != nil {
		mod(&opts)
	}
	ui := NewUI(opts)
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	t.Cleanup(ui.Close)
	return store, srv, ui
}

// openStream opens path's stream and reads its events into the channel,
// which closes at the stream's end. It returns once the stream is open.
func openStream(t *testing.T, srv *httptest.Server, path string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 1000)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		readEvents(resp.Body, ch)
	}()
	// The first comment says the stream is subscribed.
	if ev := next(t, ch, func(e sseEvent) bool { return e.Comment == "live" }); ev == nil {
		t.Fatal("the stream did not open")
	}
	return ch
}

func readEvents(r io.Reader, ch chan<- sseEvent) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Name != "" || data != nil {
				ev.Data, ev.At = strings.Join(data, "\n"), time.Now()
				ch <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			ch <- sseEvent{Comment: strings.TrimSpace(line[1:]), At: time.Now()}
		case strings.HasPrefix(line, "event: "):
			ev.Name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		}
	}
}

// next waits (5 s at most) for the first event that ok accepts; nil when
// the stream ends or the time is up.
func next(t *testing.T, ch <-chan sseEvent, ok func(sseEvent) bool) *sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				return nil
			}
			if ok(ev) {
				return &ev
			}
		case <-timeout:
			return nil
		}
	}
}

func named(name string) func(sseEvent) bool { return func(e sseEvent) bool { return e.Name == name } }

// broken is the fixtures' failing Kustomization, its message set.
func broken(msg string) *kustomizev1.Kustomization {
	for _, o := range fixtures() {
		if k, ok := o.(*kustomizev1.Kustomization); ok && k.Name == "broken" {
			k.Status.Conditions[0].Message = msg
			return k
		}
	}
	panic("no broken fixture")
}

func rowID(t *testing.T, obj kinds.Object) string {
	k, ok := kinds.Of(obj)
	if !ok {
		t.Fatalf("no kind for %T", obj)
	}
	return view{Kind: k, Namespace: obj.GetNamespace(), Name: obj.GetName()}.ID()
}

func TestStreamRowChange(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	page := get(t, New(testOptions()), "/").Body.String()
	id := rowID(t, broken(""))
	if !strings.Contains(page, `<tr id="`+id+`" sse-swap="`+id+`" hx-swap="outerHTML">`) {
		t.Fatalf("the overview has no live row %s", id)
	}
	ch := openStream(t, srv, "/events/")
	store.Add(broken("build failed again: new message"))
	ev := next(t, ch, named(id))
	if ev == nil {
		t.Fatalf("no %s event after the change", id)
	}
	if !strings.HasPrefix(ev.Data, `<tr id="`+id+`" sse-swap="`+id+`"`) || !strings.Contains(ev.Data, "build failed again: new message") {
		t.Errorf("row fragment:\n%s", ev.Data)
	}
	// The same template as the page: the row as the page renders it now.
	opts := testOptions()
	opts.Store = store
	want := get(t, New(opts), "/").Body.String()
	if !strings.Contains(want, ev.Data) {
		t.Errorf("the row fragment is not the page's row:\n%s", ev.Data)
	}
}

func TestStreamAddDeleteRespectsFilter(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/?namespace=apps")
	added := kustomization("apps", "newcomer")
	store.Add(added)
	ev := next(t, ch, named("rows"))
	if ev == nil || !strings.Contains(ev.Data, rowID(t, added)) || !strings.HasPrefix(ev.Data, `<tbody id="rows" sse-swap="rows"`) {
		t.Fatalf("no rows event with the added object: %+v", ev)
	}
	// An object outside the filter does not change the rows.
	store.Add(kustomization("elsewhere", "other"))
	if ev := next(t, ch, named("summary")); ev == nil || !strings.Contains(ev.Data, "elsewhere/other") {
		t.Fatalf("no summary event naming the object outside the filter: %+v", ev)
	}
	store.Delete(added)
	ev = next(t, ch, func(e sseEvent) bool { return e.Name == "rows" || e.Name == rowID(t, added) })
	if ev == nil || ev.Name != "rows" || strings.Contains(ev.Data, "newcomer") || strings.Contains(ev.Data, "elsewhere") {
		t.Fatalf("after the delete, want rows without newcomer and never the other namespace: %+v", ev)
	}
	if !strings.Contains(ev.Data, "broken") {
		t.Errorf("the rows lost the objects that stay:\n%s", ev.Data)
	}
}

func TestStreamObjectPage(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	// The page was drawn from an older resourceVersion: as it opens, the
	// stream renders the page's fragments once, so a change between the
	// page's render and the stream's start is not lost.
	ch := openStream(t, srv, "/events/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken?rendered=41")
	for _, name := range []string{"state", "conditions"} {
		if ev := next(t, ch, named(name)); ev == nil || !strings.Contains(ev.Data, "missing file ./apps/overlay/kustomization.yaml") {
			t.Fatalf("the stream did not open with the %s fragment: %+v", name, ev)
		}
	}
	// Another object's change is not this page's.
	store.Add(kustomization("apps", "other"))
	store.Add(broken("changed <script>alert(1)</script>"))
	// The events section, sent as its watch starts, is events_test.go's.
	ev := next(t, ch, func(e sseEvent) bool { return e.Name != "" && e.Name != "events" })
	if ev == nil || ev.Name != "state" {
		t.Fatalf("first event %+v, want state", ev)
	}
	if !strings.HasPrefix(ev.Data, `<section class="header" id="state" sse-swap="state" hx-swap="outerHTML"`) {
		t.Errorf("state fragment:\n%s", ev.Data)
	}
	if strings.Contains(ev.Data, "<script>") || !strings.Contains(ev.Data, "changed &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the message is not escaped in the fragment:\n%s", ev.Data)
	}
	if ev := next(t, ch, named("conditions")); ev == nil || !strings.Contains(ev.Data, "changed &lt;script&gt;") {
		t.Errorf("no conditions event with the new message: %+v", ev)
	}
	store.Delete(broken(""))
	ev = next(t, ch, named("state"))
	if ev == nil || !strings.Contains(ev.Data, "Deleted: this object no longer exists") {
		t.Fatalf("after the delete, state = %+v", ev)
	}
}

// TestStreamObjectPageUpToDateSendsNothingAtOpen: a page drawn from the
// object's current resourceVersion gets no fragment as its stream opens
// (a swap then could replace the button under the reader's pointer); the
// first event is the next change.
func TestStreamObjectPageUpToDateSendsNothingAtOpen(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken?rendered=")
	store.Add(broken("the next change"))
	ev := next(t, ch, func(e sseEvent) bool { return e.Name == "state" || e.Name == "conditions" })
	if ev == nil || ev.Name != "state" || !strings.Contains(ev.Data, "the next change") {
		t.Fatalf("first state or conditions event %+v, want the next change's state", ev)
	}
}

func TestStreamCoalescesBursts(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/")
	id := rowID(t, broken(""))
	start := time.Now()
	var last string
	for i := 0; time.Since(start) < 1500*time.Millisecond; i++ {
		last = fmt.Sprintf("burst message %d", i)
		store.Add(broken(last))
		time.Sleep(2 * time.Millisecond)
	}
	var got []sseEvent
	for {
		ev := next(t, ch, named(id))
		if ev == nil {
			t.Fatalf("no row event carries the last message %q; got %d events", last, len(got))
		}
		got = append(got, *ev)
		if strings.Contains(ev.Data, last+"<") {
			break
		}
	}
	// At most 4 a second. The server spaces its sends by 250 ms; they
	// arrive with some jitter, so: no 1 s window holds more than 5, and
	// the whole burst no more than 4 a second plus the first.
	for i := range got {
		n := 0
		for j := i; j < len(got) && got[j].At.Sub(got[i].At) < time.Second; j++ {
			n++
		}
		if n > 5 {
			t.Errorf("%d events within 1 s from event %d, want at most 4 a second", n, i)
		}
	}
	span := got[len(got)-1].At.Sub(start)
	if max := int(span.Seconds()*4) + 2; len(got) > max {
		t.Errorf("%d events in %v, want at most %d", len(got), span, max)
	}
}

// pendingSpy records every stream's buffer.
func pendingSpy(t *testing.T) func() []*pending {
	var mu sync.Mutex
	var all []*pending
	streamHook = func(p *pending) { mu.Lock(); all = append(all, p); mu.Unlock() }
	t.Cleanup(func() { streamHook = nil })
	return func() []*pending { mu.Lock(); defer mu.Unlock(); return append([]*pending(nil), all...) }
}

func TestStreamFallingBehindGetsResync(t *testing.T) {
	spy := pendingSpy(t)
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/")
	store.Add(broken("first"))
	if next(t, ch, named("summary")) == nil {
		t.Fatal("no event for the first change")
	}
	// More objects than the buffer holds, inside one flush interval.
	for i := 0; i < maxPending+50; i++ {
		store.Add(kustomization("bulk", fmt.Sprintf("k%03d", i)))
		for _, p := range spy() {
			if n := p.size(); n > maxPending {
				t.Fatalf("the buffer holds %d changes, more than %d", n, maxPending)
			}
		}
	}
	if ev := next(t, ch, func(e sseEvent) bool { return e.Name == "resync" || e.Name == "rows" }); ev == nil || ev.Name != "resync" {
		t.Fatalf("want one resync, got %+v", ev)
	}
}

func TestStreamClientNotReadingStaysBounded(t *testing.T) {
	spy := pendingSpy(t)
	store, srv, _ := liveServer(t, nil)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	deadline := time.Now().Add(5 * time.Second)
	for len(spy()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(spy()) != 1 {
		t.Fatal("the stream did not open")
	}
	p := spy()[0]
	// Big messages fill the socket's buffers, so the writer blocks; the
	// changes go on, and the buffer must not grow past its bound.
	big := strings.Repeat("x", 64<<10)
	overflowed := false
	for i := 0; i < 2000 && !overflowed; i++ {
		k := kustomization("bulk", fmt.Sprintf("k%04d", i))
		k.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "Failed", big, time.Minute)}
		store.Add(k)
		if n := p.size(); n > maxPending {
			t.Fatalf("the buffer holds %d changes, more than %d", n, maxPending)
		}
		p.mu.Lock()
		overflowed = p.overflow
		p.mu.Unlock()
	}
	if !overflowed {
		t.Fatal("the client that does not read never fell behind")
	}
	// Read now: the resync comes.
	ch := make(chan sseEvent, 100)
	go readEvents(conn, ch)
	ev := next(t, ch, named("resync"))
	if ev == nil {
		t.Fatal("the slow client got no resync")
	}
}

func TestStreamLimit(t *testing.T) {
	_, srv, _ := liveServer(t, func(o *Options) { o.MaxStreams = 1 })
	page := func() string {
		resp, err := srv.Client().Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := page(); !strings.Contains(p, `sse-connect="/events/?rendered=`) || strings.Contains(p, "live-notice live-off") {
		t.Fatalf("below the limit the page is not live")
	}
	openStream(t, srv, "/events/")
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, srv.URL+"/events/", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s past the limit: %d, Retry-After %q; want 503 with Retry-After", method, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	p := page()
	if !strings.Contains(p, `class="notice live-notice live-off"`) || !strings.Contains(p, "Live updates are off") || strings.Contains(p, "sse-connect") {
		t.Errorf("past the limit the page does not say live updates are off")
	}
}

func TestStreamHeartbeat(t *testing.T) {
	_, srv, _ := liveServer(t, func(o *Options) { o.Heartbeat = 30 * time.Millisecond })
	ch := openStream(t, srv, "/events/")
	for i := 0; i < 2; i++ {
		if next(t, ch, func(e sseEvent) bool { return e.Comment == "heartbeat" }) == nil {
			t.Fatalf("heartbeat %d did not come", i)
		}
	}
}

func TestStreamsEndOnShutdown(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		_, srv, ui := liveServer(t, nil)
		ch := openStream(t, srv, "/events/")
		ui.Close()
		waitEnd(t, ch)
		if resp, err := srv.Client().Get(srv.URL + "/events/"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a stream after Close: %v %v, want 503", resp, err)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, srv, _ := liveServer(t, func(o *Options) { o.Context = ctx })
		ch := openStream(t, srv, "/events/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken")
		cancel()
		waitEnd(t, ch)
	})
}

func waitEnd(t *testing.T, ch <-chan sseEvent) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, open := <-ch:
			if !open {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

func TestStreamUnknownPath(t *testing.T) {
	_, srv, _ := liveServer(t, nil)
	for _, p := range []string{"/events/nope", "/events/o/x/y/z/w"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestStreamGraph: the graph page's stream sends the drawing again when a
// node's state changes, and nothing for a change the drawing does not show.
func TestStreamGraph(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/graph")
	// Nothing the drawing shows: a label.
	quiet := broken("kustomize build failed: accumulating resources\nmissing file ./apps/overlay/kustomization.yaml")
	quiet.Labels = map[string]string{"team": "a"}
	store.Add(quiet)
	fixed := broken("now fine")
	fixed.Status.Conditions[0].Status = metav1.ConditionTrue
	store.Add(fixed)
	ev := next(t, ch, func(e sseEvent) bool { return e.Name != "" && e.Name != "events" })
	if ev == nil || ev.Name != "drawing" || !strings.HasPrefix(ev.Data, `<div id="drawing" sse-swap="drawing" hx-swap="outerHTML">`) {
		t.Fatalf("first event %+v, want the drawing", ev)
	}
	if n := strings.Count(ev.Data, "Not ready"); n != strings.Count(graphOf(t, srv), "Not ready") {
		t.Errorf("the drawing sent says Not ready %d times, the page %d", n, strings.Count(graphOf(t, srv), "Not ready"))
	}
	if ev := next(t, ch, named("drawing")); ev != nil {
		t.Errorf("a second drawing was sent with nothing more changed: %.200s", ev.Data)
	}
}

// graphOf is the drawing of the graph page as served now.
func graphOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/graph")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, after, _ := strings.Cut(string(b), `<div id="drawing"`)
	d, _, _ := strings.Cut(after, `<section aria-labelledby="cycles-title">`)
	return d
}

// TestStreamOverviewSendsRowsThatMovedOnBeforeItOpened: a change between
// the overview's render and its stream's start reaches the page at once;
// a stream of an up-to-date page sends nothing at open.
func TestStreamOverviewSendsRowsThatMovedOnBeforeItOpened(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	link := between(string(b), `sse-connect="`, `"`)
	if !strings.HasPrefix(link, "/events/?rendered=") {
		t.Fatalf("the overview's stream link is %q", link)
	}
	// The page is up to date: its stream sends nothing until a change.
	ch := openStream(t, srv, link)
	changed := broken("after the up-to-date stream opened")
	changed.ResourceVersion = "2" // as the API server moves it on
	store.Add(changed)
	if ev := next(t, ch, named("rows")); ev != nil {
		t.Errorf("an up-to-date page's stream sent the whole table: %.100s", ev.Data)
	}
	// The page drawn before that change: its stream sends the rows at once.
	ch = openStream(t, srv, link)
	if ev := next(t, ch, named("rows")); ev == nil || !strings.Contains(ev.Data, "after the up-to-date stream opened") {
		t.Errorf("the stale page's stream did not send the rows at open: %+v", ev)
	}
}

// TestStreamSummaryOnlyWhenItChanged: a message change that moves no
// count sends the row, not the summary again.
func TestStreamSummaryOnlyWhenItChanged(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/")
	id := rowID(t, broken(""))
	store.Add(broken("first new message"))
	if ev := next(t, ch, named(id)); ev == nil {
		t.Fatal("no row event for the first change")
	}
	store.Add(broken("second new message"))
	for {
		ev := next(t, ch, func(e sseEvent) bool { return e.Name != "" })
		if ev == nil {
			t.Fatal("no row event for the second change")
		}
		if ev.Name == "summary" {
			t.Fatalf("the summary was sent again, unchanged:\n%.300s", ev.Data)
		}
		if ev.Name == id && strings.Contains(ev.Data, "second new message") {
			break
		}
	}
}

// TestStreamRowThatWouldMoveChangesInPlace: a failing object turning Ready
// would sort further down; the stream swaps its row where the reader sees
// it and does not send the whole table.
func TestStreamRowThatWouldMoveChangesInPlace(t *testing.T) {
	store, srv, _ := liveServer(t, nil)
	ch := openStream(t, srv, "/events/")
	fixed := broken("Applied revision: main@sha1:fixed")
	fixed.Status.Conditions[0].Status = metav1.ConditionTrue
	store.Add(fixed)
	id := rowID(t, fixed)
	for {
		ev := next(t, ch, func(e sseEvent) bool { return e.Name != "" && e.Name != "summary" })
		if ev == nil {
			t.Fatal("no event for the fixed row")
		}
		if ev.Name == "rows" {
			t.Fatalf("the whole table was sent for a row that only changed its place")
		}
		if ev.Name == id && strings.Contains(ev.Data, "main@sha1:fixed") {
			return
		}
	}
}
