package chartrepo

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testca"
)

const (
	testUser = "helm-user"
	testPass = "s3cr3t-pa55"
)

// chartServer serves an index and chart archives, optionally behind basic
// auth, and records the Authorization headers it gets.
type chartServer struct {
	*httptest.Server
	mu      sync.Mutex
	files   map[string][]byte
	auth    bool
	headers []string
}

func newChartServer(t *testing.T, auth bool) *chartServer {
	s := &chartServer{files: map[string][]byte{}, auth: auth}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(s.Close)
	return s
}

func (s *chartServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.headers = append(s.headers, r.Header.Get("Authorization"))
	data, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if s.auth {
		u, p, has := r.BasicAuth()
		if !has {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if u != testUser || p != testPass {
			w.WriteHeader(http.StatusForbidden)
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

func (s *chartServer) put(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
}

func (s *chartServer) authHeaders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.headers...)
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// chartIndex is an index of one chart "demo" with one version per url.
func chartIndex(entries ...string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n  demo:\n")
	for _, e := range entries {
		b.WriteString(e)
	}
	return []byte(b.String())
}

func entryYAML(version, url, digest string) string {
	s := fmt.Sprintf("  - name: demo\n    version: %s\n    urls: [%q]\n", version, url)
	if digest != "" {
		s += fmt.Sprintf("    digest: %s\n", digest)
	}
	return s
}

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), testPass) || strings.Contains(err.Error(), testUser)) {
		t.Errorf("error reveals a credential: %v", err)
	}
}

func TestFetchIndexAndDownloadWithBasicAuth(t *testing.T) {
	srv := newChartServer(t, true)
	srv.Start()
	archive := []byte("chart archive bytes")
	srv.put("/charts/index.yaml", chartIndex(entryYAML("1.0.0", "demo-1.0.0.tgz", sha(archive))))
	srv.put("/charts/demo-1.0.0.tgz", archive)
	ctx := context.Background()
	repo := srv.URL + "/charts/"
	opts := Options{Username: testUser, Password: testPass}

	idx, err := FetchIndex(ctx, repo, opts)
	if err != nil {
		t.Fatal(err)
	}
	if idx.URL() != srv.URL+"/charts/index.yaml" {
		t.Errorf("index URL %s", idx.URL())
	}
	e, err := idx.Get("demo", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DownloadChart(ctx, repo, e, opts)
	if err != nil || string(got) != string(archive) {
		t.Fatalf("download: %q %v", got, err)
	}

	_, err = FetchIndex(ctx, repo, Options{})
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "no credentials were sent") {
		t.Errorf("anonymous: %v", err)
	}
	_, err = FetchIndex(ctx, repo, Options{Username: testUser, Password: "wrong-password"})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), srv.URL+"/charts/index.yaml") {
		t.Errorf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestFetchIndexBadAnswers(t *testing.T) {
	srv := newChartServer(t, false)
	srv.Start()
	srv.put("/html/index.yaml", []byte("<html><body>login</body></html>"))
	srv.put("/big/index.yaml", []byte(strings.Repeat("#", 2048)+"\napiVersion: v1\n"))
	ctx := context.Background()
	for _, tc := range []struct {
		path string
		opts Options
		kind error
		msg  string
	}{
		{"/missing", Options{}, ErrNotFound, "the index is not at this URL"},
		{"/html", Options{}, ErrNotYAML, "not a YAML mapping"},
		{"/big", Options{MaxIndexSize: 1024}, ErrTooLarge, "over the maximum of 1024 bytes"},
	} {
		_, err := FetchIndex(ctx, srv.URL+tc.path, tc.opts)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), srv.URL+tc.path+"/index.yaml") {
			t.Errorf("%s: %v, want %v with %q and the URL", tc.path, err, tc.kind, tc.msg)
		}
	}
	// Nothing listens on a closed server's port.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := FetchIndex(ctx, closed.URL, Options{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("closed port: %v", err)
	}
	for _, bad := range []string{"ftp://example.com/charts", "https://" + testUser + ":" + testPass + "@example.com/", "oci://ghcr.io/x", "https:///path"} {
		_, err := FetchIndex(ctx, bad, Options{})
		if !errors.Is(err, ErrInvalidURL) || !IsStalling(err) {
			t.Errorf("%s: %v", bad, err)
		}
		assertNoSecret(t, err)
	}
}

func TestFetchIndexTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	_, err := FetchIndex(context.Background(), srv.URL, Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "no answer within 200ms") || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("stalling server: %v", err)
	}
}

func TestFetchIndexTLS(t *testing.T) {
	ca := testca.New("chartrepo test CA")
	pair := ca.Server()
	srv := newChartServer(t, false)
	srv.put("/index.yaml", chartIndex(entryYAML("1.0.0", "demo-1.0.0.tgz", "")))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pair.TLSCertificate()},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	srv.StartTLS()
	ctx := context.Background()

	_, err := FetchIndex(ctx, srv.URL, Options{})
	if !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("without the CA: %v", err)
	}
	caOnly, err := TLSFromCertSecret(map[string][]byte{"ca.crt": ca.CertPEM})
	if err != nil {
		t.Fatal(err)
	}
	_, err = FetchIndex(ctx, srv.URL, Options{TLS: caOnly})
	if !errors.Is(err, ErrTLS) {
		t.Errorf("without a client certificate: %v", err)
	}
	client := ca.Client("chartrepo")
	mtls, err := TLSFromCertSecret(map[string][]byte{"ca.crt": ca.CertPEM, "tls.crt": client.CertPEM, "tls.key": client.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FetchIndex(ctx, srv.URL, Options{TLS: mtls}); err != nil {
		t.Errorf("mutual TLS: %v", err)
	}
	// The deprecated way: TLS keys in secretRef, with a warning.
	opts, warnings, err := SecretOptions(map[string][]byte{
		"username": []byte(testUser), "password": []byte(testPass),
		"ca.crt": ca.CertPEM, "tls.crt": client.CertPEM, "tls.key": client.KeyPEM,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "certSecretRef") {
		t.Errorf("warnings %v", warnings)
	}
	if _, err := FetchIndex(ctx, srv.URL, opts); err != nil {
		t.Errorf("TLS from secretRef: %v", err)
	}
}

func TestDownloadChartCredentialsToAnotherHost(t *testing.T) {
	other := newChartServer(t, false)
	other.Start()
	archive := []byte("remote archive")
	other.put("/demo-2.0.0.tgz", archive)
	repo := newChartServer(t, false)
	repo.Start()
	repo.put("/index.yaml", chartIndex(entryYAML("2.0.0", other.URL+"/demo-2.0.0.tgz", sha(archive))))
	ctx := context.Background()
	opts := Options{Username: testUser, Password: testPass}

	idx, err := FetchIndex(ctx, repo.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	e, err := idx.Get("demo", "2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DownloadChart(ctx, repo.URL, e, opts); err != nil {
		t.Fatal(err)
	}
	opts.PassCredentials = true
	if _, err := DownloadChart(ctx, repo.URL, e, opts); err != nil {
		t.Fatal(err)
	}
	h := other.authHeaders()
	if len(h) != 2 || h[0] != "" {
		t.Fatalf("second host got %q, want nothing then credentials", h)
	}
	u, p, ok := (&http.Request{Header: http.Header{"Authorization": {h[1]}}}).BasicAuth()
	if !ok || u != testUser || p != testPass {
		t.Errorf("with passCredentials the second host got %q", h[1])
	}
	if got := repo.authHeaders(); got[0] == "" {
		t.Error("the repository's own host got no credentials")
	}
}

func TestDownloadChartBadAnswers(t *testing.T) {
	srv := newChartServer(t, false)
	srv.Start()
	archive := []byte("the real archive")
	srv.put("/charts/demo-1.0.0.tgz", archive)
	srv.put("/charts/big.tgz", []byte(strings.Repeat("x", 4096)))
	ctx := context.Background()
	repo := srv.URL + "/charts"
	for _, tc := range []struct {
		name  string
		entry Entry
		opts  Options
		kind  error
		msg   string
	}{
		{"digest", Entry{Name: "demo", Version: "1.0.0", URLs: []string{"demo-1.0.0.tgz"}, Digest: sha([]byte("other"))}, Options{}, ErrDigestMismatch, "the index gives sha256"},
		{"404", Entry{Name: "demo", Version: "1.0.1", URLs: []string{"demo-1.0.1.tgz"}}, Options{}, ErrNotFound, "the chart is not at this URL"},
		{"size", Entry{Name: "demo", Version: "1.0.2", URLs: []string{"big.tgz"}}, Options{MaxChartSize: 1024}, ErrTooLarge, "over the maximum"},
		{"no urls", Entry{Name: "demo", Version: "1.0.3"}, Options{}, ErrInvalidIndex, "no urls"},
		{"scheme", Entry{Name: "demo", Version: "1.0.4", URLs: []string{"file:///etc/passwd"}}, Options{}, ErrInvalidURL, "not http or https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DownloadChart(ctx, repo, tc.entry, tc.opts)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("%v, want %v with %q", err, tc.kind, tc.msg)
			}
			want := fmt.Sprintf("chart 'demo' version '%s'", tc.entry.Version)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %s", err, want)
			}
		})
	}
	// Digest with a sha256: prefix, and a relative URL under a repository
	// path without a trailing slash.
	e := Entry{Name: "demo", Version: "1.0.0", URLs: []string{"demo-1.0.0.tgz"}, Digest: "sha256:" + sha(archive)}
	if got, err := DownloadChart(ctx, repo, e, Options{}); err != nil || string(got) != string(archive) {
		t.Errorf("download: %q %v", got, err)
	}
}

func TestResolveChartURL(t *testing.T) {
	for _, tc := range []struct{ repo, ref, want string }{
		{"https://h/charts", "a-1.tgz", "https://h/charts/a-1.tgz"},
		{"https://h/charts/", "a-1.tgz", "https://h/charts/a-1.tgz"},
		{"https://h/charts?sig=x", "a-1.tgz", "https://h/charts/a-1.tgz?sig=x"},
		{"https://h/charts", "/root/a-1.tgz", "https://h/root/a-1.tgz"},
		{"https://h/charts", "https://cdn/a-1.tgz", "https://cdn/a-1.tgz"},
	} {
		repo, err := parseRepoURL(tc.repo)
		if err != nil {
			t.Fatal(err)
		}
		u, err := resolveChartURL(repo, tc.ref)
		if err != nil || u.String() != tc.want {
			t.Errorf("%s + %s = %v %v, want %s", tc.repo, tc.ref, u, err, tc.want)
		}
	}
	repo, _ := parseRepoURL("https://h/charts?sig=x")
	if got := indexURL(repo).String(); got != "https://h/charts/index.yaml?sig=x" {
		t.Errorf("index URL %s", got)
	}
}
