package artifact

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		allowed []string
		url     string
		ok      bool
	}{
		{[]string{"source-controller.flux-system.svc.cluster.local."}, "http://source-controller.flux-system.svc.cluster.local./gitrepository/a/b/c.tar.gz", true},
		// Case, the trailing dot and default ports are normalised.
		{[]string{"source-controller.flux-system.svc.cluster.local."}, "http://Source-Controller.flux-system.svc.cluster.local:80/x", true},
		{[]string{"https://storage.example"}, "https://storage.example:443/x", true},
		{[]string{"http://storage.example:9090"}, "http://storage.example:9090/x", true},
		{[]string{"http://[::1]:9090"}, "http://[::1]:9090/x", true},
		{[]string{"a.example", "b.example:8080"}, "http://b.example:8080/x", true},
		// Another host, port or scheme.
		{[]string{"storage.example"}, "http://evil.example/x", false},
		{[]string{"storage.example"}, "http://storage.example.evil.example/x", false},
		{[]string{"storage.example"}, "http://storage.example:8080/x", false},
		{[]string{"storage.example"}, "https://storage.example/x", false},
		{[]string{"storage.example"}, "http://storage.example@evil.example/x", false},
		// A path prefix confines the path, as the server resolves it.
		{[]string{"http://storage.example/artifacts/"}, "http://storage.example/artifacts/a.tar.gz", true},
		{[]string{"http://storage.example/artifacts"}, "http://storage.example/artifacts2/a.tar.gz", false},
		{[]string{"http://storage.example/artifacts"}, "http://storage.example/artifacts/../secret.tar.gz", false},
		{[]string{"http://storage.example/artifacts"}, "http://storage.example/artifacts/%2e%2e/secret.tar.gz", false},
	}
	for _, tt := range tests {
		f := fastFetcher(t, func(o *FetcherOptions) { o.AllowedURLPrefixes = tt.allowed })
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		err = f.checkURL(u)
		if tt.ok != (err == nil) {
			t.Errorf("allowed %v, %s: %v, want ok=%v", tt.allowed, tt.url, err, tt.ok)
		}
	}
}

func TestNewFetcherAllowedPrefixes(t *testing.T) {
	for _, bad := range []string{"", "ftp://storage.example", "http://user@storage.example", "http://storage.example/?q", "http://[::1"} {
		if _, err := NewFetcher(FetcherOptions{AllowedURLPrefixes: []string{bad}}); !errContains(err, "allowed artifact URL prefix") {
			t.Errorf("prefix %q: %v, want it refused", bad, err)
		}
	}
}

// counting serves archive on every path but /redirect, which redirects to
// target, and counts the requests.
type counting struct {
	archive  []byte
	target   string
	requests atomic.Int32
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.requests.Add(1)
	if r.URL.Path == "/redirect" {
		http.Redirect(w, r, c.target, http.StatusFound)
		return
	}
	_, _ = w.Write(c.archive)
}

func TestFetchPinnedURLs(t *testing.T) {
	archive := makeTarGz(t, []tarEntry{{name: "a", content: "1"}})
	digest := sha256Digest(archive)
	foreign := &counting{archive: archive}
	foreignSrv := httptest.NewServer(foreign)
	defer foreignSrv.Close()
	storage := &counting{archive: archive}
	storageSrv := httptest.NewServer(storage)
	defer storageSrv.Close()
	storageHost := strings.TrimPrefix(storageSrv.URL, "http://")
	credentials := strings.Replace(storageSrv.URL, "://", "://user:s3cret@", 1)
	const adv = "source-controller.flux-system.svc.cluster.local."

	tests := []struct {
		name     string
		allowed  []string
		override string
		url      string
		target   string // where /redirect leads
		want     string // empty: fetched
		storage  int32  // requests the storage server gets
	}{
		{name: "allowed server", allowed: []string{storageHost}, url: storageSrv.URL + "/a.tar.gz", storage: 1},
		{name: "allowed among several", allowed: []string{adv, "HTTP://" + storageHost + "/"}, url: storageSrv.URL + "/a.tar.gz", storage: 1},
		{name: "foreign host", allowed: []string{storageHost}, url: foreignSrv.URL + "/a.tar.gz",
			want: "artifact URL " + foreignSrv.URL + "/a.tar.gz: host " + strings.TrimPrefix(foreignSrv.URL, "http://") +
				" is not an allowed artifact server (allowed: " + storageSrv.URL + ")"},
		{name: "same host, other name", allowed: []string{storageHost}, url: strings.Replace(storageSrv.URL, "127.0.0.1", "localhost", 1) + "/a.tar.gz",
			want: "host localhost:"},
		{name: "redirect on the server", allowed: []string{storageHost}, url: storageSrv.URL + "/redirect", target: "/a.tar.gz", storage: 2},
		{name: "redirect to a foreign host", allowed: []string{storageHost}, url: storageSrv.URL + "/redirect", target: foreignSrv.URL + "/a.tar.gz",
			want: "redirect to " + foreignSrv.URL + "/a.tar.gz: host " + strings.TrimPrefix(foreignSrv.URL, "http://") + " is not an allowed", storage: 1},
		{name: "redirect with credentials", url: storageSrv.URL + "/redirect", target: credentials + "/a.tar.gz",
			want: "credentials in artifact URLs are not allowed", storage: 1},
		{name: "credentials, pinned", allowed: []string{storageHost}, url: credentials + "/a.tar.gz",
			want: "credentials in artifact URLs are not allowed"},
		{name: "credentials, not pinned", url: credentials + "/a.tar.gz", want: "credentials in artifact URLs are not allowed"},
		// The advertised address is checked, then the override applies, as
		// when the controller runs outside the cluster.
		{name: "advertised host under an override", allowed: []string{adv}, override: storageHost,
			url: "http://" + adv + "/a.tar.gz", storage: 1},
		{name: "redirect under an override", allowed: []string{adv}, override: storageHost,
			url: "http://" + adv + "/redirect", target: "/a.tar.gz", storage: 2},
		{name: "foreign host under an override", allowed: []string{adv}, override: storageHost,
			url: "http://evil.example/a.tar.gz", want: "host evil.example is not an allowed artifact server"},
		{name: "not pinned", url: foreignSrv.URL + "/a.tar.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storage.requests.Store(0)
			foreign.requests.Store(0)
			storage.target = tt.target
			f := fastFetcher(t, func(o *FetcherOptions) {
				o.AllowedURLPrefixes = tt.allowed
				o.HostOverride = tt.override
			})
			err := f.Fetch(context.Background(), tt.url, digest, t.TempDir())
			if tt.want == "" && err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if tt.want != "" && !errContains(err, tt.want) {
				t.Fatalf("Fetch: %v, want %q", err, tt.want)
			}
			if errContains(err, "s3cret") {
				t.Errorf("the password is in the error: %v", err)
			}
			var pinned *URLNotAllowedError
			if strings.Contains(tt.want, "not an allowed") && !errors.As(err, &pinned) {
				t.Errorf("Fetch: %v, want a URLNotAllowedError", err)
			}
			if got := storage.requests.Load(); got != tt.storage {
				t.Errorf("%d requests to the storage server, want %d (a refusal is final)", got, tt.storage)
			}
			if tt.want != "" && foreign.requests.Load() != 0 {
				t.Errorf("the foreign server was asked")
			}
		})
	}
}
