package s3test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// CountingProxy is a reverse proxy in front of a Server that records every
// request, so a test can assert which objects a fetch listed and
// downloaded (a poll without change must do no GET of an object). It speaks
// HTTPS, with a certificate from the server's CA, when the server does.
// Requests are read path-style (/bucket/key), which clients use for an IP
// endpoint.
type CountingProxy struct {
	// URL is the proxy's http(s)://host:port.
	URL string

	endpoint string
	mu       sync.Mutex
	requests []string
	gets     map[string]int
	lists    int
}

// NewCountingProxy starts a counting proxy in front of s, stopped with the
// test.
func (s *Server) NewCountingProxy(t testing.TB) *CountingProxy {
	t.Helper()
	p := &CountingProxy{gets: map[string]int{}}
	rp := s.upstream()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		rp.ServeHTTP(w, r)
	}))
	if s.TLS {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.ca.Server().TLSCertificate()}, MinVersion: tls.VersionTLS12}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	p.endpoint = srv.Listener.Addr().String()
	return p
}

// Endpoint is the proxy's host:port, for a Bucket's spec.endpoint.
func (p *CountingProxy) Endpoint() string { return p.endpoint }

// Gets counts the GET requests of the object key (in any bucket).
func (p *CountingProxy) Gets(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets[key]
}

// TotalGets counts the GET requests of every object.
func (p *CountingProxy) TotalGets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.gets {
		n += c
	}
	return n
}

// Lists counts the listing requests: GETs of a bucket other than the
// location lookup (one per page of a listing).
func (p *CountingProxy) Lists() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lists
}

// Requests returns every request so far as "METHOD /path?query", in order.
func (p *CountingProxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Reset forgets the requests so far, so a test can count one phase.
func (p *CountingProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests, p.gets, p.lists = nil, map[string]int{}, 0
}

// record notes r and counts it as an object GET or a listing.
func (p *CountingProxy) record(r *http.Request) {
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, line)
	if r.Method != http.MethodGet || bucket == "" {
		return
	}
	if key != "" {
		p.gets[key]++
		return
	}
	if !hasQueryKey(r.URL.RawQuery, "location") {
		p.lists++
	}
}

// hasQueryKey says the raw query has name as a key, with or without a value.
func hasQueryKey(raw, name string) bool {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return false
	}
	_, ok := q[name]
	return ok
}
