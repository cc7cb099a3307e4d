package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func fastFetcher(t *testing.T, mutate func(*FetcherOptions)) *Fetcher {
	t.Helper()
	opts := FetcherOptions{RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, TempDir: t.TempDir()}
	if mutate != nil {
		mutate(&opts)
	}
	f, err := NewFetcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// scripted answers the n-th request with statuses[n] (the last one repeats);
// 200 serves body, 0 drops the connection.
type scripted struct {
	statuses []int
	body     []byte
	requests atomic.Int32
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.requests.Add(1)) - 1
	status := s.statuses[min(n, len(s.statuses)-1)]
	switch status {
	case 0:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	case http.StatusOK:
		_, _ = w.Write(s.body)
	default:
		http.Error(w, http.StatusText(status), status)
	}
}

func TestFetchFromStorage(t *testing.T) {
	s := newTestStorage(t, nil)
	src := t.TempDir()
	writeTree(t, src, map[string]file{"deploy/app.yaml": {content: "kind: ConfigMap\n"}, "README.md": {content: "r"}})
	a, err := s.Archive(src, "gitrepository/ns/n/a.tar.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(s))
	defer srv.Close()

	// The artifact URL names the advertised host; the override points the
	// fetcher at the test server, as SOURCE_CONTROLLER_LOCALHOST does.
	f := fastFetcher(t, func(o *FetcherOptions) { o.HostOverride = strings.TrimPrefix(srv.URL, "http://") })
	dir := t.TempDir()
	if err := f.Fetch(context.Background(), a.URL, a.Digest, dir); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listTree(t, dir), ","); got != "README.md,deploy/,deploy/app.yaml" {
		t.Errorf("tree = %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "deploy/app.yaml")); string(b) != "kind: ConfigMap\n" {
		t.Errorf("content = %q", b)
	}
	if entries, _ := os.ReadDir(f.opts.TempDir); len(entries) != 0 {
		t.Errorf("download left %d temporary files", len(entries))
	}
}

func TestFetchRetries(t *testing.T) {
	archive := makeTarGz(t, []tarEntry{{name: "a", content: "1"}})
	digest := sha256Digest(archive)
	tests := []struct {
		name     string
		statuses []int
		retries  int
		requests int32
		want     string // empty: success
	}{
		{name: "503 then 200", statuses: []int{503, 200}, requests: 2},
		{name: "404 then 200", statuses: []int{404, 404, 200}, requests: 3},
		{name: "429 then 200", statuses: []int{429, 200}, requests: 2},
		{name: "dropped connection then 200", statuses: []int{0, 200}, requests: 2},
		{name: "404 forever", statuses: []int{404}, retries: 2, requests: 3,
			want: "giving up after 3 attempts: artifact http"},
		{name: "500 forever", statuses: []int{500}, retries: 1, requests: 2,
			want: "giving up after 2 attempts: server answered 500 Internal Server Error"},
		{name: "403 is final", statuses: []int{403, 200}, requests: 1, want: "server answered 403 Forbidden"},
		{name: "501 is final", statuses: []int{501, 200}, requests: 1, want: "server answered 501 Not Implemented"},
		{name: "no retries", statuses: []int{503, 200}, retries: -1, requests: 1, want: "server answered 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &scripted{statuses: tt.statuses, body: archive}
			srv := httptest.NewServer(h)
			defer srv.Close()
			f := fastFetcher(t, func(o *FetcherOptions) { o.Retries = tt.retries })
			err := f.Fetch(context.Background(), srv.URL+"/gitrepository/ns/n/a.tar.gz", digest, t.TempDir())
			if tt.want == "" && err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if tt.want != "" && !errContains(err, tt.want) {
				t.Fatalf("Fetch: %v, want %q", err, tt.want)
			}
			if got := h.requests.Load(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
		})
	}
}

func TestFetchNotFoundError(t *testing.T) {
	srv := httptest.NewServer(&scripted{statuses: []int{404}})
	defer srv.Close()
	f := fastFetcher(t, func(o *FetcherOptions) { o.Retries = 1 })
	err := f.Fetch(context.Background(), srv.URL+"/x.tar.gz", sha256Digest(nil), t.TempDir())
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.URL != srv.URL+"/x.tar.gz" {
		t.Fatalf("Fetch: %v, want a NotFoundError for the URL", err)
	}
	if !strings.Contains(err.Error(), "file not found") {
		t.Errorf("message %q", err)
	}
}

func TestFetchDigestMismatch(t *testing.T) {
	archive := makeTarGz(t, []tarEntry{{name: "a", content: "1"}})
	srv := httptest.NewServer(&scripted{statuses: []int{200}, body: archive})
	defer srv.Close()
	want := "sha256:" + strings.Repeat("0", 64)
	dir := t.TempDir()
	err := fastFetcher(t, nil).Fetch(context.Background(), srv.URL+"/a.tar.gz", want, dir)
	var dm *DigestMismatchError
	if !errors.As(err, &dm) {
		t.Fatalf("Fetch: %v, want a DigestMismatchError", err)
	}
	actual := sha256Digest(archive)
	if !strings.Contains(err.Error(), "expected "+want+", got "+actual) {
		t.Errorf("message %q does not name both digests", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("unverified content unpacked: %v", entries)
	}

	// Other algorithms are verified by the digest's prefix.
	for _, algo := range []string{"sha384", "sha512"} {
		d, _, err := digestReader(strings.NewReader(string(archive)), algo)
		if err != nil {
			t.Fatal(err)
		}
		if err := fastFetcher(t, nil).Fetch(context.Background(), srv.URL+"/a.tar.gz", d, t.TempDir()); err != nil {
			t.Errorf("%s: %v", algo, err)
		}
	}
}

func TestFetchLimitsAndBadInput(t *testing.T) {
	archive := makeTarGz(t, []tarEntry{{name: "a", content: strings.Repeat("x", 4096)}, {name: "b", content: "b"}})
	digest := sha256Digest(archive)
	chunked := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Two writes with a flush between: no Content-Length.
		half := len(archive) / 2
		_, _ = w.Write(archive[:half])
		w.(http.Flusher).Flush()
		_, _ = w.Write(archive[half:])
	})
	plain := &scripted{statuses: []int{200}, body: archive}
	tests := []struct {
		name    string
		handler http.Handler
		url     string
		digest  string
		opts    func(*FetcherOptions)
		want    string
	}{
		{name: "download over the limit", handler: plain, digest: digest,
			opts: func(o *FetcherOptions) { o.MaxDownloadSize = 10 },
			want: "exceeds the maximum download size of 10 bytes"},
		{name: "chunked download over the limit", handler: chunked, digest: digest,
			opts: func(o *FetcherOptions) { o.MaxDownloadSize = 10 },
			want: "artifact exceeds the maximum download size of 10 bytes"},
		{name: "untar over the limit", handler: plain, digest: digest,
			opts: func(o *FetcherOptions) { o.MaxUntarSize = 1024 },
			want: `archive entry "a": 4096 bytes exceed the maximum size of 1024 bytes`},
		{name: "too many files", handler: plain, digest: digest,
			opts: func(o *FetcherOptions) { o.MaxFiles = 1 },
			want: `archive has more than 1 entries (at "b")`},
		{name: "unsupported digest algorithm", handler: plain, digest: "md5:" + strings.Repeat("0", 32),
			want: `unsupported digest algorithm "md5"`},
		{name: "malformed digest", handler: plain, digest: "nope", want: "invalid digest"},
		{name: "bad URL", handler: plain, url: "ftp://host/x", digest: digest, want: "want an http or https URL"},
		{name: "unparsable URL", handler: plain, url: "http://[::1", digest: digest, want: "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			url := tt.url
			if url == "" {
				url = srv.URL + "/a.tar.gz"
			}
			err := fastFetcher(t, tt.opts).Fetch(context.Background(), url, tt.digest, t.TempDir())
			if !errContains(err, tt.want) {
				t.Errorf("Fetch: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFetchUnsafeArchives(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"path traversal", []tarEntry{{name: "ok", content: "1"}, {name: "../../evil", content: "x"}},
			`archive entry "../../evil": path escapes the target directory`},
		{"absolute path", []tarEntry{{name: "/etc/cron.d/evil", content: "x"}},
			`archive entry "/etc/cron.d/evil": absolute paths are not allowed`},
		{"symbolic link", []tarEntry{{name: "l", typ: '2', linkname: "/"}, {name: "l/etc/evil", content: "x"}},
			`archive entry "l": links are not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			archive := makeTarGz(t, tt.entries)
			srv := httptest.NewServer(&scripted{statuses: []int{200}, body: archive})
			defer srv.Close()
			base := t.TempDir()
			err := fastFetcher(t, nil).Fetch(context.Background(), srv.URL+"/a.tar.gz", sha256Digest(archive), filepath.Join(base, "out"))
			if !errContains(err, tt.want) || !strings.Contains(err.Error(), "unpacking "+srv.URL) {
				t.Fatalf("Fetch: %v, want %q", err, tt.want)
			}
			assertOnlyOut(t, base)
		})
	}
}

// afterTransport calls after once a round trip has returned.
type afterTransport struct {
	after func()
}

func (a afterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	a.after()
	return resp, err
}

func TestFetchCancelledDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &scripted{statuses: []int{503}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	// The context is cancelled once the 503 has arrived, so the fetcher is
	// in its (hour-long) back-off when it notices.
	client := &http.Client{Transport: afterTransport{after: cancel}}
	f := fastFetcher(t, func(o *FetcherOptions) {
		o.Client = client
		o.RetryWaitMin, o.RetryWaitMax = time.Hour, time.Hour
	})
	err := f.Fetch(ctx, srv.URL+"/a.tar.gz", sha256Digest(nil), t.TempDir())
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "last error: server answered 503") {
		t.Fatalf("Fetch: %v, want the cancellation and the last error", err)
	}
	if h.requests.Load() != 1 {
		t.Errorf("%d requests after cancellation", h.requests.Load())
	}
}

func TestNewFetcher(t *testing.T) {
	f, err := NewFetcher(FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.opts.Retries != 9 || f.opts.RetryWaitMin != 5*time.Second || f.opts.RetryWaitMax != 30*time.Second || f.opts.Client == nil {
		t.Errorf("defaults = %+v", f.opts)
	}
	if _, err := NewFetcher(FetcherOptions{RetryWaitMin: time.Minute, RetryWaitMax: time.Second}); !errContains(err, "retry wait maximum 1s is below the minimum 1m0s") {
		t.Errorf("inverted waits: %v", err)
	}
}

// TestFetcherLimitDefaults: a fetcher built without options is bounded; a
// negative limit lifts a bound.
func TestFetcherLimitDefaults(t *testing.T) {
	f, err := NewFetcher(FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.opts.MaxDownloadSize != DefaultMaxDownloadSize || f.opts.MaxUntarSize != DefaultMaxUntarSize ||
		f.opts.MaxFiles != DefaultMaxFiles || f.opts.Timeout != DefaultTimeout {
		t.Errorf("limits = download %d, untar %d, files %d, timeout %s; want the defaults",
			f.opts.MaxDownloadSize, f.opts.MaxUntarSize, f.opts.MaxFiles, f.opts.Timeout)
	}
	if DefaultMaxUntarSize != 1<<30 || DefaultMaxDownloadSize != 1<<30 || DefaultMaxFiles != 100_000 || DefaultTimeout != time.Minute {
		t.Errorf("defaults changed: update the flags' help and docs/security.md too")
	}
	f, err = NewFetcher(FetcherOptions{MaxDownloadSize: -1, MaxUntarSize: -1, MaxFiles: -1, Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if f.opts.MaxDownloadSize != 0 || f.opts.MaxUntarSize != 0 || f.opts.MaxFiles != 0 || f.opts.Timeout != 0 {
		t.Errorf("negative limits = %+v, want unlimited", f.opts)
	}
	// The defaults reach the download and the unpacking: an archive over
	// the default entry count is refused (checked with a small stand-in, the
	// default itself takes 100k files to pass).
	archive := makeTarGz(t, []tarEntry{{name: "a", content: "1"}, {name: "b", content: "2"}})
	srv := httptest.NewServer(&scripted{statuses: []int{200}, body: archive})
	defer srv.Close()
	f = fastFetcher(t, func(o *FetcherOptions) { o.MaxFiles = 1 })
	if err := f.Fetch(context.Background(), srv.URL+"/a.tar.gz", sha256Digest(archive), t.TempDir()); !errContains(err, "more than 1 entries") {
		t.Errorf("Fetch over MaxFiles: %v", err)
	}
	f = fastFetcher(t, func(o *FetcherOptions) { o.MaxFiles = -1 })
	if err := f.Fetch(context.Background(), srv.URL+"/a.tar.gz", sha256Digest(archive), t.TempDir()); err != nil {
		t.Errorf("Fetch unlimited: %v", err)
	}
}

// silentServer accepts connections and never answers on them.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

func TestFetchTimesOut(t *testing.T) {
	archive := makeTarGz(t, []tarEntry{{name: "a", content: strings.Repeat("x", 64<<10)}})
	// stalls sends the headers and half the body, then nothing.
	stalls := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(archive)))
		_, _ = w.Write(archive[:len(archive)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer stalls.Close()
	tests := []struct {
		name    string
		url     string
		retries int
		want    string
	}{
		{name: "no answer", url: silentServer(t) + "/a.tar.gz", retries: -1},
		{name: "body stalls", url: stalls.URL + "/a.tar.gz", retries: -1},
		{name: "retried", url: silentServer(t) + "/a.tar.gz", retries: 1, want: "giving up after 2 attempts: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The deadline makes a missing timeout fail the test, not hang it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			f := fastFetcher(t, func(o *FetcherOptions) {
				o.Timeout = 200 * time.Millisecond
				o.Retries = tt.retries
			})
			err := f.Fetch(ctx, tt.url, sha256Digest(archive), t.TempDir())
			want := tt.want + "artifact download from " + tt.url + " timed out after 200ms"
			if !errContains(err, want) || ctx.Err() != nil {
				t.Fatalf("Fetch: %v (context: %v), want %q", err, ctx.Err(), want)
			}
		})
	}
}
