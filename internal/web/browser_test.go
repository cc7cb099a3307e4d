package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/testkit/browser"
)

// The browser tests load the UI over the fixtures in
// chromium-headless-shell. They prove what only a browser can: the vendored
// htmx and its SSE extension run under the CSP with the htmx-config meta,
// nothing leaves the UI's origin, the GET filter works by hand, and
// untrusted text stays text. Each page is saved as screenshots.

// uiServer serves the fixtures' UI on 127.0.0.1, which Hosts admits.
func uiServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(testOptions()))
	t.Cleanup(srv.Close)
	return srv
}

// objectRows selects the overview's object rows, not the "no match" row.
const objectRows = "table.objects tbody td[data-label=Name]"

func TestBrowserPagesLoadOfflineUnderTheCSP(t *testing.T) {
	b := browser.Start(t)
	srv := uiServer(t)
	pages := []struct{ name, path, heading string }{
		{"overview", "/", "Overview"},
		{"kustomization", "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken", "broken"},
		{"gitrepository", "/o/source.toolkit.fluxcd.io/GitRepository/flux-system/flux-system", "flux-system"},
	}
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			p := b.Open(t, srv.URL+pg.path)
			if h := p.Text("h1"); !strings.Contains(h, pg.heading) {
				t.Errorf("h1 = %q, want it to contain %q", h, pg.heading)
			}
			// htmx ran, with the configuration from the meta tag (not
			// its defaults), and the SSE extension registered itself.
			if got := browser.Evaluate[string](p, "typeof htmx"); got != "object" {
				t.Errorf("typeof htmx = %q, want object: htmx did not run", got)
			}
			if got := browser.Evaluate[bool](p, "htmx.config.allowEval === false && htmx.config.selfRequestsOnly === true && htmx.config.includeIndicatorStyles === false"); !got {
				t.Errorf("htmx did not take its configuration from <meta name=htmx-config>")
			}
			if got := browser.Evaluate[int](p, "document.querySelectorAll('script[src=\"/static/vendor/sse.min.js\"]').length"); got != 1 {
				t.Errorf("the SSE extension's script is on the page %d times, want 1", got)
			}
			if got := browser.Evaluate[bool](p, "getComputedStyle(document.body).fontFamily !== ''"); !got {
				t.Errorf("the stylesheet did not apply")
			}
			p.Screenshots(pg.name)
			p.CheckClean(srv.URL)
		})
	}
}

func TestBrowserFilterNarrowsRowsAndReloads(t *testing.T) {
	b := browser.Start(t)
	srv := uiServer(t)
	p := b.Open(t, srv.URL+"/")
	all := p.Count(objectRows)
	if all < 3 {
		t.Fatalf("the overview shows %d objects, want the fixtures' (at least 3)", all)
	}
	p.Type("form.filters input[name=q]", "broken")
	p.Submit("form.filters input[name=q]")
	if u := p.URL(); !strings.Contains(u, "q=broken") {
		t.Errorf("the filter is not in the URL: %s", u)
	}
	names := rowNames(p)
	if len(names) != 1 || names[0] != "broken" {
		t.Fatalf("filtered rows = %q, want [broken] (of %d)", names, all)
	}
	p.Screenshots("filtered")

	filtered := p.URL()
	p.Reload()
	if again := rowNames(p); strings.Join(again, ",") != strings.Join(names, ",") {
		t.Errorf("after a reload of %s the rows are %q, want %q", filtered, again, names)
	}
	if got := p.URL(); got != filtered {
		t.Errorf("reload moved to %s from %s", got, filtered)
	}
	// The same URL opened fresh, as a shared link is.
	shared := b.Open(t, filtered)
	if got := rowNames(shared); strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("the shared link %s shows %q, want %q", filtered, got, names)
	}
	if got := browser.Evaluate[string](shared, "document.querySelector('form.filters input[name=q]').value"); got != "broken" {
		t.Errorf("the shared link's search field holds %q, want broken", got)
	}
	p.CheckClean(srv.URL)
	shared.CheckClean(srv.URL)
}

// rowNames are the names in the overview's object rows, in order.
func rowNames(p *browser.Page) []string {
	return browser.Evaluate[[]string](p, "[...document.querySelectorAll("+jsString(objectRows)+")].map(td => td.textContent.trim())")
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

func TestBrowserScriptInMessageStaysText(t *testing.T) {
	b := browser.Start(t)
	srv := uiServer(t)
	for _, path := range []string{"/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/untrusted", "/?q=untrusted"} {
		p := b.Open(t, srv.URL+path)
		body := p.Text("main")
		if !strings.Contains(body, `<script>alert("owned")</script> & <b>bold</b>`) {
			t.Errorf("%s: the message does not show as text:\n%s", path, body)
		}
		// The only scripts are the two vendored ones and live.js; no element came
		// from the message.
		if got := browser.Evaluate[[]string](p, "[...document.scripts].map(s => s.getAttribute('src') || 'inline: ' + s.textContent)"); strings.Join(got, ",") != "/static/vendor/htmx.min.js,/static/vendor/sse.min.js,/static/live.js" {
			t.Errorf("%s: scripts = %q, want only the vendored two and live.js", path, got)
		}
		if got := p.Count("main b"); got != 0 {
			t.Errorf("%s: %d <b> elements in main: markup from the message was parsed", path, got)
		}
		if got := browser.Evaluate[bool](p, "'owned' in window || document.title.includes('owned')"); got {
			t.Errorf("%s: the message's script ran", path)
		}
		p.Screenshots(strings.Trim(safe(path), "_"))
		p.CheckClean(srv.URL)
	}
}

func safe(path string) string {
	return strings.NewReplacer("/", "_", "?", "_", "=", "_", ".", "_").Replace(path)
}

// waitFor polls the page until expression is true (5 s at most).
func waitFor(t *testing.T, p *browser.Page, what, expression string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !browser.Evaluate[bool](p, expression) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStreams waits until the UI has n streams open.
func waitStreams(t *testing.T, ui *UI, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ui.s.hub.mu.Lock()
		open := ui.s.hub.open
		ui.s.hub.mu.Unlock()
		if open == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open, want %d", open, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBrowserLiveRowUpdatesInPlace(t *testing.T) {
	b := browser.Start(t)
	store, srv, ui := liveServer(t, nil)
	p := b.Open(t, srv.URL+"/")
	waitStreams(t, ui, 1)
	browser.Evaluate[bool](p, "window.liveMarker = 'still here'; true")

	// A Ready object turns Ready=False: its row changes where it is.
	var apps *kustomizev1.Kustomization
	for _, o := range fixtures() {
		if k, ok := o.(*kustomizev1.Kustomization); ok && k.Namespace == "flux-system" && k.Name == "apps" {
			apps = k
		}
	}
	apps.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "HealthCheckFailed", "live: deployment apps/podinfo not ready", time.Minute)}
	store.Add(apps)
	row := "document.getElementById(" + jsString(rowID(t, apps)) + ")"
	waitFor(t, p, "the row shows Ready=False", row+" && "+row+".textContent.includes('live: deployment apps/podinfo not ready') && "+row+".textContent.includes('Not ready')")

	// A failing object's message changes in place (the row alone swaps).
	store.Add(broken("live: second message <b>not bold</b>"))
	brokenRow := "document.getElementById(" + jsString(rowID(t, broken(""))) + ")"
	waitFor(t, p, "the row shows the new message", brokenRow+" && "+brokenRow+".textContent.includes('live: second message <b>not bold</b>')")

	if n := browser.Evaluate[int](p, "performance.getEntriesByType('navigation').length"); n != 1 {
		t.Errorf("%d navigations, want 1: the page reloaded", n)
	}
	if m := browser.Evaluate[string](p, "String(window.liveMarker)"); m != "still here" {
		t.Errorf("the marker is %q: the page was replaced", m)
	}
	if n := p.Count("main b"); n != 0 {
		t.Errorf("%d <b> in main: markup from a live message was parsed", n)
	}
	if n := p.Count("#live-notice.live-paused, #live-notice.live-off"); n != 0 {
		t.Errorf("the live notice shows while the stream is up")
	}
	p.Screenshots("live-row")
	p.CheckClean(srv.URL)
}

func TestBrowserLiveObjectDeleted(t *testing.T) {
	b := browser.Start(t)
	store, srv, ui := liveServer(t, nil)
	p := b.Open(t, srv.URL+"/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken")
	waitStreams(t, ui, 1)
	store.Delete(broken(""))
	waitFor(t, p, "the page says deleted", "document.getElementById('state').textContent.includes('Deleted: this object no longer exists')")
	if n := browser.Evaluate[int](p, "performance.getEntriesByType('navigation').length"); n != 1 {
		t.Errorf("%d navigations, want 1", n)
	}
	p.Screenshots("live-deleted")
	p.CheckClean(srv.URL)
}

func TestBrowserLiveReconnectRerendersBody(t *testing.T) {
	b := browser.Start(t)
	store, srv, ui := liveServer(t, nil)
	p := b.Open(t, srv.URL+"/?namespace=apps")
	waitStreams(t, ui, 1)
	browser.Evaluate[bool](p, "window.liveMarker = 'still here'; true")

	// The stream drops; a change while it is down reaches no stream.
	ui.s.hub.drop()
	waitFor(t, p, "the page says live updates are paused", "document.querySelector('#live-notice.live-paused') !== null && getComputedStyle(document.getElementById('live-notice')).display !== 'none'")
	if got := p.Text("#live-notice .live-paused-text"); !strings.Contains(got, "Live updates paused, reconnecting") {
		t.Errorf("the notice says %q", got)
	}
	store.Add(broken("changed while the stream was down"))

	// It reconnects (retry: 2 s) and re-reads the body.
	row := "document.getElementById(" + jsString(rowID(t, broken(""))) + ")"
	deadline := time.Now().Add(10 * time.Second)
	for !browser.Evaluate[bool](p, row+" && "+row+".textContent.includes('changed while the stream was down')") {
		if time.Now().After(deadline) {
			t.Fatal("after reconnecting the body still shows the old message")
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, p, "the notice hides", "getComputedStyle(document.getElementById('live-notice')).display === 'none'")
	if n := browser.Evaluate[int](p, "performance.getEntriesByType('navigation').length"); n != 1 {
		t.Errorf("%d navigations, want 1", n)
	}
	if m := browser.Evaluate[string](p, "String(window.liveMarker)"); m != "still here" {
		t.Errorf("the marker is %q: the page was replaced", m)
	}
	// The body kept its filter: only namespace apps.
	if got := rowNames(p); strings.Contains(strings.Join(got, ","), "flux-system") {
		t.Errorf("rows after the re-render: %q", got)
	}
	// The live part works again after the re-render.
	waitStreams(t, ui, 1)
	store.Add(broken("after the reconnect"))
	waitFor(t, p, "a live change after the reconnect shows", row+" && "+row+".textContent.includes('after the reconnect')")

	// htmx logs the dropped stream's error event to the console
	// (htmx:sseError's detail, an Event); that is the only error allowed.
	for _, e := range p.Errors() {
		if e != "console.error: [object Event]" {
			t.Errorf("console error: %s", e)
		}
	}
	for _, v := range p.Violations() {
		t.Errorf("CSP violation: %s", v)
	}
	for _, r := range p.Foreign(srv.URL) {
		t.Errorf("request to another origin: %s", r)
	}
	p.Screenshots("live-reconnected")
}

// TestBrowserLiveGraphNode: a node's status changes on the open graph
// page without a reload; the drawing is swapped as SVG (its nodes stay
// links), under the CSP.
func TestBrowserLiveGraphNode(t *testing.T) {
	b := browser.Start(t)
	store, srv, ui := liveServer(t, nil)
	p := b.Open(t, srv.URL+"/graph")
	waitStreams(t, ui, 1)
	browser.Evaluate[bool](p, "window.liveMarker = 'still here'; true")
	node := `document.querySelector('svg.graph a[href="/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken"] text.status')`
	if got := browser.Evaluate[string](p, node+".textContent"); !strings.Contains(got, "Not ready") {
		t.Fatalf("the broken node says %q before the change", got)
	}
	fixed := broken("Applied revision: main@sha1:fixed")
	fixed.Status.Conditions[0].Status, fixed.Status.Conditions[0].Reason = metav1.ConditionTrue, meta.ReconciliationSucceededReason
	store.Add(fixed)
	waitFor(t, p, "the node to say Ready", node+" && !"+node+".textContent.includes('Not ready') && "+node+".textContent.includes('Ready')")
	if got := browser.Evaluate[string](p, node+".namespaceURI"); got != "http://www.w3.org/2000/svg" {
		t.Errorf("the swapped node's text is in namespace %q, not SVG's", got)
	}
	if m := browser.Evaluate[string](p, "String(window.liveMarker)"); m != "still here" {
		t.Errorf("the marker is %q: the page was replaced", m)
	}
	p.Screenshots("live-graph")
	p.CheckClean(srv.URL)
}
