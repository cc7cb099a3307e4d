package web

import (
	"net/http/httptest"
	"strings"
	"testing"

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
