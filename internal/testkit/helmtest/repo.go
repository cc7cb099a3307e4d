package helmtest

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// RepositoryOptions choose the variant of a chart repository. The zero
// value is a plain HTTP repository anyone can read, with relative chart
// URLs.
type RepositoryOptions struct {
	// TLS serves HTTPS (both hosts) with a certificate from CA.
	TLS bool
	// ClientCert requires a client certificate from CA: mutual TLS. It
	// implies TLS.
	ClientCert bool
	// CA issues the certificates; nil means a fresh one.
	CA *testca.CA
	// Username and Password, when Username is set, are the one account of
	// HTTP basic auth on the repository host: every request without them
	// gets 401. The chart host never asks for them.
	Username string
	Password string
	// AbsoluteChartURLs makes the index name each chart by an absolute URL
	// on the chart host (Repository.ChartHost), another host than the
	// repository's, instead of a URL relative to the index.
	AbsoluteChartURLs bool
}

// Request is one request a host of the repository served.
type Request struct {
	Method string
	Path   string
	// Authorization is the request's Authorization header, "" without one.
	Authorization string
	Status        int
}

// Repository is a Helm chart repository (index.yaml and chart archives)
// served by the test process on 127.0.0.1.
type Repository struct {
	// URL is the repository URL, without a trailing slash: what a
	// HelmRepository's spec.url or `helm repo add` takes.
	URL string
	// CA issued the server certificates (and ClientCertPEM); nil without
	// TLS. CAPEM is its PEM certificate (`ca.crt`).
	CA    *testca.CA
	CAPEM []byte
	// ClientCertPEM and ClientKeyPEM are a client certificate the servers
	// accept (`tls.crt`, `tls.key`); nil without ClientCert.
	ClientCertPEM []byte
	ClientKeyPEM  []byte
	// Username and Password are the basic auth account; empty without.
	Username string
	Password string
	// ChartHost is the second host serving the same archives, by the name
	// localhost where URL has 127.0.0.1; the index points at it under
	// AbsoluteChartURLs.
	ChartHost *Host

	opts   RepositoryOptions
	server *httptest.Server

	mu       sync.Mutex
	index    *repo.IndexFile
	indexRaw []byte // served as index.yaml
	override []byte // SetIndex: served instead of indexRaw
	archives map[string][]byte
	requests []Request
	stall    chan struct{} // non-nil: requests wait until it closes
	stalled  chan struct{} // a request started stalling
}

// Host is a server of the repository's archives, recording what it was
// asked.
type Host struct {
	// URL is the host's base URL, without a trailing slash.
	URL string

	repo   *Repository
	server *httptest.Server

	mu       sync.Mutex
	requests []Request
}

// NewRepository starts a chart repository with an empty index, stopped
// when the test ends.
func NewRepository(t testing.TB, opts RepositoryOptions) *Repository {
	t.Helper()
	if opts.ClientCert {
		opts.TLS = true
	}
	r := &Repository{
		opts:     opts,
		Username: opts.Username,
		Password: opts.Password,
		index:    repo.NewIndexFile(),
		archives: map[string][]byte{},
		stalled:  make(chan struct{}, 1),
	}
	r.ChartHost = &Host{repo: r}
	r.server = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.ChartHost.server = httptest.NewUnstartedServer(http.HandlerFunc(r.ChartHost.serve))
	if opts.TLS {
		r.CA = opts.CA
		if r.CA == nil {
			r.CA = testca.New("helmtest CA")
		}
		r.CAPEM = r.CA.CertPEM
		server := r.CA.Server()
		cfg := &tls.Config{Certificates: []tls.Certificate{server.TLSCertificate()}, MinVersion: tls.VersionTLS12}
		if opts.ClientCert {
			client := r.CA.Client("helmtest client")
			r.ClientCertPEM, r.ClientKeyPEM = client.CertPEM, client.KeyPEM
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
			cfg.ClientCAs = r.CA.Pool()
		}
		r.server.TLS = cfg
		r.ChartHost.server.TLS = cfg.Clone()
		r.server.StartTLS()
		r.ChartHost.server.StartTLS()
	} else {
		r.server.Start()
		r.ChartHost.server.Start()
	}
	r.URL = r.server.URL
	u, err := url.Parse(r.ChartHost.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(u.Host)
	u.Host = net.JoinHostPort("localhost", port)
	r.ChartHost.URL = u.String()
	r.mu.Lock()
	err = r.writeIndexLocked()
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// Close releases stalled requests and stops both hosts.
func (r *Repository) Close() {
	r.Resume()
	r.server.Close()
	r.ChartHost.server.Close()
}

// Publish packages chart, adds the archive at <URL>/<name>-<version>.tgz
// (a version published again replaces the old one) and rewrites the index
// with the SDK's index code. It returns the index entry.
func (r *Repository) Publish(chart *Chart) (*repo.ChartVersion, error) {
	data, err := chart.Package()
	if err != nil {
		return nil, err
	}
	return r.PublishArchive(chart.Metadata(), data)
}

// MustPublish is Publish for a test: a failure ends it.
func (r *Repository) MustPublish(t testing.TB, chart *Chart) *repo.ChartVersion {
	t.Helper()
	cv, err := r.Publish(chart)
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

// PublishArchive adds archive (whatever bytes, a test's broken chart as
// well) under the index entry md, with archive's digest.
func (r *Repository) PublishArchive(md *chartv2.Metadata, archive []byte) (*repo.ChartVersion, error) {
	filename := md.Name + "-" + md.Version + ".tgz"
	sum := sha256.Sum256(archive)
	base := ""
	if r.opts.AbsoluteChartURLs {
		base = r.ChartHost.URL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.index.Entries[md.Name][:0]
	for _, cv := range r.index.Entries[md.Name] {
		if cv.Version != md.Version {
			kept = append(kept, cv)
		}
	}
	if len(kept) == 0 {
		delete(r.index.Entries, md.Name)
	} else {
		r.index.Entries[md.Name] = kept
	}
	if err := r.index.MustAdd(md, filename, base, hex.EncodeToString(sum[:])); err != nil {
		return nil, fmt.Errorf("helmtest: index chart %s %s: %w", md.Name, md.Version, err)
	}
	r.archives["/"+filename] = archive
	if err := r.writeIndexLocked(); err != nil {
		return nil, err
	}
	cv, err := r.index.Get(md.Name, md.Version)
	if err != nil {
		return nil, err
	}
	return cv, nil
}

// Remove drops a version from the index; its archive is still served.
func (r *Repository) Remove(name, version string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var kept repo.ChartVersions
	for _, cv := range r.index.Entries[name] {
		if cv.Version != version {
			kept = append(kept, cv)
		}
	}
	if len(kept) == len(r.index.Entries[name]) {
		return fmt.Errorf("helmtest: no chart %s version %s in the index", name, version)
	}
	if len(kept) == 0 {
		delete(r.index.Entries, name)
	} else {
		r.index.Entries[name] = kept
	}
	return r.writeIndexLocked()
}

// ReplaceArchive serves data for a published archive file (`<name>-<version>.tgz`)
// without touching the index: a download that misses the index digest.
func (r *Repository) ReplaceArchive(filename string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.archives["/"+strings.TrimPrefix(filename, "/")] = data
}

func (r *Repository) writeIndexLocked() error {
	r.index.SortEntries()
	r.index.Generated = time.Now().UTC()
	raw, err := yaml.Marshal(r.index)
	if err != nil {
		return fmt.Errorf("helmtest: write index: %w", err)
	}
	r.indexRaw = raw
	return nil
}

// Index is the index the repository serves (a copy, parsed back from
// IndexYAML).
func (r *Repository) Index() (*repo.IndexFile, error) {
	idx := &repo.IndexFile{}
	if err := yaml.Unmarshal(r.IndexYAML(), idx); err != nil {
		return nil, fmt.Errorf("helmtest: parse own index: %w", err)
	}
	return idx, nil
}

// IndexYAML is the bytes GET <URL>/index.yaml answers.
func (r *Repository) IndexYAML() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.override != nil {
		return append([]byte(nil), r.override...)
	}
	return append([]byte(nil), r.indexRaw...)
}

// SetIndex serves raw as index.yaml instead of the index Publish keeps (an
// index that is not YAML, or too big); nil goes back to that index.
func (r *Repository) SetIndex(raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.override = raw
}

// Versions are the versions of chart name in the index, newest first.
func (r *Repository) Versions(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, cv := range r.index.Entries[name] {
		out = append(out, cv.Version)
	}
	return out
}

// Stall makes every request to either host wait, without an answer, until
// Resume or until the client gives up: a server that accepts connections
// and never answers.
func (r *Repository) Stall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stall == nil {
		r.stall = make(chan struct{})
	}
}

// Resume answers the stalled requests and ends the stalling mode.
func (r *Repository) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stall != nil {
		close(r.stall)
		r.stall = nil
	}
}

// Stalled is signalled (buffered, one at a time) when a request starts
// waiting in the stalling mode, so a test waits for it without sleeping.
func (r *Repository) Stalled() <-chan struct{} { return r.stalled }

// Requests are the requests the repository host served, in order.
func (r *Repository) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Requests are the requests the chart host served, in order.
func (h *Host) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

// Authorizations are the Authorization headers of the chart host's
// requests, in order ("" for a request without one).
func (h *Host) Authorizations() []string {
	var out []string
	for _, req := range h.Requests() {
		out = append(out, req.Authorization)
	}
	return out
}

// TLSConfig is a client configuration trusting CA and presenting the
// client certificate when one is required; nil without TLS.
func (r *Repository) TLSConfig() *tls.Config {
	if r.CA == nil {
		return nil
	}
	cfg := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}
	cfg.RootCAs.AddCert(r.CA.Cert)
	if r.ClientCertPEM != nil {
		pair, err := tls.X509KeyPair(r.ClientCertPEM, r.ClientKeyPEM)
		if err != nil {
			panic(err) // issued by testca above
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// HTTPClient is a client for the repository with its TLS configuration
// and no credentials.
func (r *Repository) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = r.TLSConfig()
	return &http.Client{Transport: tr}
}

// wait holds a request in the stalling mode; false when the client left.
func (r *Repository) wait(req *http.Request) bool {
	r.mu.Lock()
	stall := r.stall
	r.mu.Unlock()
	if stall == nil {
		return true
	}
	select {
	case r.stalled <- struct{}{}:
	default:
	}
	select {
	case <-stall:
		return true
	case <-req.Context().Done():
		return false
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (r *Repository) serve(w http.ResponseWriter, req *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		r.mu.Lock()
		r.requests = append(r.requests, Request{req.Method, req.URL.Path, req.Header.Get("Authorization"), rec.status})
		r.mu.Unlock()
	}()
	if !r.wait(req) {
		rec.status = 0
		return
	}
	if r.Username != "" {
		user, pass, ok := req.BasicAuth()
		if !ok || user != r.Username || pass != r.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="helmtest"`)
			http.Error(rec, "401 unauthorized", http.StatusUnauthorized)
			return
		}
	}
	if req.URL.Path == "/index.yaml" {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			http.Error(rec, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = rec.Write(r.IndexYAML())
		return
	}
	r.serveArchive(rec, req)
}

func (r *Repository) serveArchive(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	data, ok := r.archives[req.URL.Path]
	r.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(data)
}

func (h *Host) serve(w http.ResponseWriter, req *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		h.mu.Lock()
		h.requests = append(h.requests, Request{req.Method, req.URL.Path, req.Header.Get("Authorization"), rec.status})
		h.mu.Unlock()
	}()
	if !h.repo.wait(req) {
		rec.status = 0
		return
	}
	h.repo.serveArchive(rec, req)
}
