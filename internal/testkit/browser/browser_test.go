package browser_test

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/browser"
)

const csp = "default-src 'self'; script-src 'self'; style-src 'self'"

// site serves small pages under the CSP the UI sends.
func site(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", csp)
		if strings.HasSuffix(r.URL.Path, ".js") {
			w.Header().Set("Content-Type", "text/javascript")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCleanPageReadsTypesAndScreenshots(t *testing.T) {
	b := browser.Start(t)
	srv := site(t, map[string]string{
		"/": `<!DOCTYPE html><title>t</title><script src="/ok.js"></script>
<form action="/" method="get"><input id="q" name="q"><button>go</button></form>
<ul><li>a</li><li>b</li><li>c</li></ul><p id="p">hello <b>world</b></p>`,
		"/ok.js": `console.log("loaded");`,
	})
	p := b.Open(t, srv.URL+"/")
	if got := p.Text("#p"); got != "hello world" {
		t.Errorf("Text(#p) = %q", got)
	}
	if got := p.Count("li"); got != 3 {
		t.Errorf("Count(li) = %d", got)
	}
	if got := p.Count("table"); got != 0 {
		t.Errorf("Count(table) = %d", got)
	}
	p.Type("#q", "a b")
	p.Submit("#q")
	if got, want := p.URL(), srv.URL+"/?q=a+b"; got != want {
		t.Errorf("after submit the URL is %q, want %q", got, want)
	}
	p.CheckClean(srv.URL)
	if !slices.ContainsFunc(p.Console(), func(s string) bool { return strings.Contains(s, "console.log: loaded") }) {
		t.Errorf("console.log not recorded: %q", p.Console())
	}
	if !slices.Contains(p.Requests(), srv.URL+"/ok.js") {
		t.Errorf("script request not recorded: %q", p.Requests())
	}

	paths := p.Screenshots("page")
	if len(paths) != len(browser.Sizes) {
		t.Fatalf("%d screenshots, want %d", len(paths), len(browser.Sizes))
	}
	for i, path := range paths {
		if want := filepath.Join(".cache", "test-artifacts", "web", "TestCleanPageReadsTypesAndScreenshots"); !strings.Contains(path, want) {
			t.Errorf("screenshot %s is not under %s", path, want)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", path, err)
		}
		if s := browser.Sizes[i]; int64(cfg.Width) != s.Width || int64(cfg.Height) < s.Height {
			t.Errorf("%s is %dx%d, want %s (full page: at least that tall)", path, cfg.Width, cfg.Height, s)
		}
	}
	if w := browser.Evaluate[int](p, "window.innerWidth"); w != int(browser.Sizes[0].Width) {
		t.Errorf("viewport width after screenshots = %d, want %d", w, browser.Sizes[0].Width)
	}
}

// The kit must see what it promises to catch: an inline script the CSP
// blocks, a request to another origin, a console error and an exception.
func TestDirtyPageIsCaught(t *testing.T) {
	b := browser.Start(t)
	other := site(t, map[string]string{"/x.css": ``})
	srv := site(t, map[string]string{
		"/": `<!DOCTYPE html><title>t</title>
<script>document.title = "inline ran";</script>
<p style="color: red">styled</p>
<script src="/bad.js"></script>
<link rel="stylesheet" href="` + other.URL + `/x.css">`,
		"/bad.js": `console.error("broken on purpose"); throw new Error("thrown on purpose");`,
	})
	p := b.Open(t, srv.URL+"/")
	if title := browser.Evaluate[string](p, "document.title"); title == "inline ran" {
		t.Fatalf("the inline script ran: the CSP was not applied")
	}
	foreign := p.Foreign(srv.URL)
	if !slices.ContainsFunc(foreign, func(s string) bool { return strings.HasPrefix(s, other.URL) }) {
		t.Errorf("the request to %s is not reported as foreign: %q (all: %q)", other.URL, foreign, p.Requests())
	}
	violations := strings.Join(p.Violations(), "\n")
	for _, want := range []string{"securitypolicyviolation", "script-src", "style-src"} {
		if !strings.Contains(violations, want) {
			t.Errorf("violations lack %q:\n%s", want, violations)
		}
	}
	errs := strings.Join(p.Errors(), "\n")
	for _, want := range []string{"broken on purpose", "thrown on purpose"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q:\n%s", want, errs)
		}
	}
	t.Logf("violations:\n%s\nerrors:\n%s", violations, errs)
}
