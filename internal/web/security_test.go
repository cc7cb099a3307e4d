package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// allPaths are every page and asset the tests walk.
func allPaths() []string {
	paths := []string{"/", "/?status=attention", "/?kind=Kustomization&namespace=apps&q=broken",
		"/static/ui.css", "/static/vendor/htmx.min.js", "/nope", "/o/x/y/z/w",
		"/graph", "/graph?namespace=apps", "/graph?around=kustomize.toolkit.fluxcd.io%2FKustomization%2Fapps%2Funtrusted",
		"/graph?around=nope", "/graph?namespace=apps&around=x", "/graph.json", "/graph.json?namespace=flux-system"}
	for _, p := range goldenPages {
		paths = append(paths, p)
	}
	return paths
}

func TestHeadersOnEveryResponse(t *testing.T) {
	h := newTestServer()
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	check := func(t *testing.T, rec *httptest.ResponseRecorder, page bool) {
		t.Helper()
		if got := rec.Header().Get("Content-Security-Policy"); got != csp {
			t.Errorf("Content-Security-Policy = %q, want %q", got, csp)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q", got)
		}
		if got := rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy = %q", got)
		}
		if got := rec.Header().Get("Cache-Control"); page && got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store on a page", got)
		}
	}
	for _, p := range allPaths() {
		t.Run(p, func(t *testing.T) {
			rec := get(t, h, p)
			check(t, rec, !strings.HasPrefix(p, "/static/"))
		})
	}
	t.Run("forbidden host", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "http://evil.example/", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, rec, false)
	})
}

func TestHost(t *testing.T) {
	h := newTestServer()
	for _, tc := range []struct {
		host string
		code int
	}{
		{"localhost", http.StatusOK},
		{"localhost:9080", http.StatusOK},
		{"LOCALHOST:9080", http.StatusOK},
		{"127.0.0.1:9080", http.StatusOK},
		{"evil.example", http.StatusForbidden},
		{"evil.example:9080", http.StatusForbidden},
		{"localhost.evil.example", http.StatusForbidden},
		{"[::1]:9080", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		t.Run(tc.host, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Host = tc.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("Host %q: %d, want %d", tc.host, rec.Code, tc.code)
			}
			if tc.code == http.StatusForbidden && !strings.Contains(rec.Body.String(), "is not one this UI serves") {
				t.Errorf("403 without its reason: %q", rec.Body)
			}
			if tc.code == http.StatusForbidden && strings.Contains(rec.Body.String(), "Overview") {
				t.Error("403 carries the page")
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := newTestServer()
	plain := get(t, h, "/").Body.Bytes()
	req := httptest.NewRequest(http.MethodGet, "http://localhost/", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Error("gzipped page differs from the plain one")
	}
	req.Header.Set("Accept-Encoding", "gzip;q=0")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refused it")
	}
}

// inline finds what the CSP forbids and the pages must not need: inline
// scripts (a script tag without src), style elements, style attributes,
// event handler attributes and javascript: URLs.
var inline = []*regexp.Regexp{
	regexp.MustCompile(`(?i)<script(\s[^>]*)?>`),
	regexp.MustCompile(`(?i)<style[\s>]`),
	regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle\s*=`),
	regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`),
	regexp.MustCompile(`(?i)javascript:`),
}

var scriptWithSrc = regexp.MustCompile(`(?i)^<script src="/static/(vendor/)?[a-z.]+\.js"( defer)?>$`)

func checkInline(t *testing.T, name, text string) {
	t.Helper()
	for _, re := range inline {
		for _, m := range re.FindAllString(text, -1) {
			if scriptWithSrc.MatchString(m) {
				continue
			}
			t.Errorf("%s: inline code or style %q", name, m)
		}
	}
}

func TestNoInlineAnything(t *testing.T) {
	h := newTestServer()
	for _, p := range allPaths() {
		if strings.HasPrefix(p, "/static/") {
			continue
		}
		checkInline(t, "GET "+p, get(t, h, p).Body.String())
	}
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		checkInline(t, path, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLayoutHead(t *testing.T) {
	body := get(t, newTestServer(), "/").Body.String()
	for _, want := range []string{
		`<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true}'>`,
		`<script src="/static/vendor/htmx.min.js" defer></script>`,
		`<script src="/static/vendor/sse.min.js" defer></script>`,
		`<link rel="stylesheet" href="/static/ui.css">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the layout lacks %s", want)
		}
	}
	// No origin but the UI's own.
	if m := regexp.MustCompile(`(?i)(src|href|action)="(https?:)?//`).FindString(body); m != "" {
		t.Errorf("the page names another origin: %s", m)
	}
}

// TestVendoredSums checks the embedded vendor files against SHA256SUMS,
// which hack/vendor-web.sh wrote: no file changed, missing or extra.
func TestVendoredSums(t *testing.T) {
	sums, err := fs.ReadFile(files, "static/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		want[name] = sum
	}
	entries, err := fs.ReadDir(files, "static/vendor")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range entries {
		if e.Name() == "SHA256SUMS" {
			continue
		}
		seen = append(seen, e.Name())
		b, err := fs.ReadFile(files, "static/vendor/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		switch w, ok := want[e.Name()]; {
		case !ok:
			t.Errorf("static/vendor/%s is not in SHA256SUMS", e.Name())
		case w != hex.EncodeToString(sum[:]):
			t.Errorf("static/vendor/%s does not match SHA256SUMS (rerun hack/vendor-web.sh)", e.Name())
		}
	}
	sort.Strings(seen)
	for name := range want {
		if i := sort.SearchStrings(seen, name); i == len(seen) || seen[i] != name {
			t.Errorf("%s is in SHA256SUMS but not embedded", name)
		}
	}
	for _, name := range []string{"htmx.min.js", "htmx.LICENSE", "sse.min.js", "sse.LICENSE"} {
		if _, ok := want[name]; !ok {
			t.Errorf("SHA256SUMS lacks %s", name)
		}
	}
}

func TestStaticServed(t *testing.T) {
	h := newTestServer()
	rec := get(t, h, "/static/vendor/htmx.min.js")
	want, _ := fs.ReadFile(files, "static/vendor/htmx.min.js")
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("htmx.min.js: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("htmx.min.js Content-Type %q", ct)
	}
	if rec := get(t, h, "/static/vendor/"); rec.Code != http.StatusNotFound {
		t.Errorf("directory listing: %d", rec.Code)
	}
}

func TestNotFound(t *testing.T) {
	h := newTestServer()
	for _, p := range []string{
		"/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/missing",
		"/o/kustomize.toolkit.fluxcd.io/Kustomization/other/apps",
		"/o/kustomize.toolkit.fluxcd.io/Nope/apps/broken",
		"/o/example.com/Kustomization/apps/broken",
		"/o/source.toolkit.fluxcd.io/GitRepository/apps/broken",
		"/o/core/Secret/flux-system/flux-system",
		"/o/Secret/flux-system/flux-system",
		"/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken/extra",
		"/nope",
	} {
		rec := get(t, h, p)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "not found or not visible to you") {
			t.Errorf("GET %s: %d, want 404 \"not found or not visible to you\"", p, rec.Code)
		}
	}
}

func TestUntrustedTextAndSecrets(t *testing.T) {
	h := newTestServer()
	for _, p := range allPaths() {
		body := get(t, h, p).Body.String()
		if strings.Contains(body, secretValue) {
			t.Errorf("GET %s shows a Secret's value", p)
		}
		if strings.Contains(body, "kubectl-should-not-show") {
			t.Errorf("GET %s shows managedFields", p)
		}
		if strings.Contains(body, `<script>alert`) || strings.Contains(body, `<img src=x`) {
			t.Errorf("GET %s renders a message as HTML", p)
		}
	}
	page := get(t, h, goldenPages["object-script-message.html"]).Body.String()
	if !strings.Contains(page, `&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;`) {
		t.Error("the <script> message is not shown as text")
	}
}
