package s3test_test

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/s3test"
)

// The counting proxy forwards signed requests (Host unchanged) and counts
// listings and object GETs per key, over HTTP and HTTPS.
func TestCountingProxy(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			s := s3test.Start(t, s3test.Options{TLS: tls})
			s.MakeBucket(t, "bkt")
			e1 := s.Put(t, "bkt", "apps/a.yaml", []byte("a"))
			e2 := s.Put(t, "bkt", "apps/b.yaml", []byte("bkt"))

			p := s.NewCountingProxy(t)
			if !strings.HasSuffix(p.URL, "://"+p.Endpoint()) || strings.HasPrefix(p.URL, "https") != tls {
				t.Fatalf("proxy URL %q, endpoint %q (TLS %v)", p.URL, p.Endpoint(), tls)
			}
			c := s.NewClient(t, p.Endpoint(), tls, nil)
			got := list(t, c, "bkt")
			if len(got) != 2 || got["apps/a.yaml"] != e1 || got["apps/b.yaml"] != e2 {
				t.Fatalf("listing through the proxy = %v", got)
			}
			if p.Lists() != 1 || p.TotalGets() != 0 {
				t.Fatalf("after one listing: %d lists, %d gets, want 1 and 0; requests %v", p.Lists(), p.TotalGets(), p.Requests())
			}
			get(t, c, "bkt", "apps/a.yaml")
			get(t, c, "bkt", "apps/a.yaml")
			if p.Gets("apps/a.yaml") != 2 || p.Gets("apps/b.yaml") != 0 {
				t.Fatalf("gets: a=%d b=%d, want 2 and 0; requests %v", p.Gets("apps/a.yaml"), p.Gets("apps/b.yaml"), p.Requests())
			}
			if !slices.ContainsFunc(p.Requests(), func(r string) bool { return strings.HasPrefix(r, "GET /bkt/apps/a.yaml") }) {
				t.Fatalf("requests %v lack GET /bkt/apps/a.yaml", p.Requests())
			}
			p.Reset()
			if p.Lists() != 0 || p.TotalGets() != 0 || len(p.Requests()) != 0 {
				t.Fatalf("after Reset: %d lists, %d gets, %v", p.Lists(), p.TotalGets(), p.Requests())
			}
		})
	}
}

// The mutual-TLS proxy forwards a client with the certificate it hands
// out, to a plain or an HTTPS server, and refuses one without a
// certificate or with one of another CA.
func TestMutualTLSProxy(t *testing.T) {
	for _, upstreamTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "to http", true: "to https"}[upstreamTLS], func(t *testing.T) {
			s := s3test.Start(t, s3test.Options{TLS: upstreamTLS})
			s.MakeBucket(t, "bkt")
			etag := s.Put(t, "bkt", "k", []byte("v"))
			p := s.NewMutualTLSProxy(t)
			if p.URL != "https://"+p.Endpoint() {
				t.Fatalf("proxy URL %q, endpoint %q", p.URL, p.Endpoint())
			}

			ok := s.NewClient(t, p.Endpoint(), true, &http.Transport{TLSClientConfig: p.TLSConfig()})
			if got := list(t, ok, "bkt"); got["k"] != etag {
				t.Fatalf("listing through mutual TLS = %v, want k with %q", got, etag)
			}
			if p.Forwarded() == 0 {
				t.Fatal("the proxy forwarded nothing")
			}

			noCert := p.TLSConfig()
			noCert.Certificates = nil
			other := s3test.Start(t, s3test.Options{}).NewMutualTLSProxy(t)
			wrongCA := p.TLSConfig()
			wrongCA.Certificates = other.TLSConfig().Certificates
			for name, cfg := range map[string]*tls.Config{"no certificate": noCert, "another CA's certificate": wrongCA} {
				before, refused := p.Forwarded(), p.Refused()
				c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
				resp, err := c.Get(p.URL + "/")
				if err == nil {
					resp.Body.Close()
					t.Fatalf("%s: a GET through the mutual-TLS proxy answered %s", name, resp.Status)
				}
				if !strings.Contains(err.Error(), "certificate") {
					t.Fatalf("%s: error %v does not say the certificate was refused", name, err)
				}
				// The proxy logs the refusal after sending its alert: wait for it.
				waitFor(t, 5*time.Second, func() bool { return p.Refused() > refused })
				if p.Forwarded() != before || p.Refused() != refused+1 {
					t.Fatalf("%s: forwarded %d→%d, refused %d→%d; want no forward and one refusal", name, before, p.Forwarded(), refused, p.Refused())
				}
			}
		})
	}
}

// The forward proxy of internal/testkit/gittest (proxySecretRef) carries
// S3 too: plain requests to an HTTP server and CONNECT tunnels to HTTPS.
func TestForwardProxy(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			s := s3test.Start(t, s3test.Options{TLS: tls})
			s.MakeBucket(t, "bkt")
			etag := s.Put(t, "bkt", "k", []byte("v"))
			proxy := gittest.NewHTTPProxy(t, "user", "pass")
			u, err := url.Parse(proxy.URL)
			if err != nil {
				t.Fatal(err)
			}
			u.User = url.UserPassword("user", "pass")
			c := s.NewClient(t, s.Endpoint, tls, &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: s.TLSConfig()})
			if got := list(t, c, "bkt"); got["k"] != etag {
				t.Fatalf("listing through the forward proxy = %v, want k with %q", got, etag)
			}
			if proxy.Forwarded() == 0 {
				t.Fatal("the forward proxy saw nothing: the client went around it")
			}
		})
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
