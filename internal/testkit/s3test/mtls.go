package s3test

import (
	"crypto/tls"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// MutualTLSProxy is an HTTPS front of a Server that demands a client
// certificate signed by its own test CA, because versitygw checks none: it
// is how a test exercises a Bucket's certSecretRef with tls.crt and
// tls.key. It forwards with Host unchanged (SigV4 signs it).
type MutualTLSProxy struct {
	// URL is the proxy's https://host:port.
	URL string
	// CA is the PEM certificate of the CA that signed both the proxy's
	// server certificate and the client certificate: a certSecretRef's
	// ca.crt.
	CA []byte
	// ClientCert and ClientKey are a client certificate and its PKCS#8
	// key the proxy accepts: a certSecretRef's tls.crt and tls.key.
	ClientCert, ClientKey []byte

	endpoint  string
	ca        *testca.CA
	forwarded atomic.Int64
	refusals  handshakeErrors
}

// NewMutualTLSProxy starts a mutual-TLS front of s, stopped with the test.
func (s *Server) NewMutualTLSProxy(t testing.TB) *MutualTLSProxy {
	t.Helper()
	ca := testca.New("s3test mutual TLS CA")
	client := ca.Client("s3test client")
	p := &MutualTLSProxy{CA: ca.CertPEM, ClientCert: client.CertPEM, ClientKey: client.KeyPEM, ca: ca}
	rp := s.upstream()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.forwarded.Add(1)
		rp.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(&p.refusals, "", 0)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server().TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
		MinVersion:   tls.VersionTLS12,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	p.endpoint = srv.Listener.Addr().String()
	return p
}

// Endpoint is the proxy's host:port, for a Bucket's spec.endpoint.
func (p *MutualTLSProxy) Endpoint() string { return p.endpoint }

// Forwarded counts the requests that passed the client-certificate check.
func (p *MutualTLSProxy) Forwarded() int { return int(p.forwarded.Load()) }

// Refused counts the TLS handshakes the proxy failed (a client without an
// accepted certificate, or one that does not trust the proxy).
func (p *MutualTLSProxy) Refused() int { return int(p.refusals.n.Load()) }

// handshakeErrors counts the "TLS handshake error" lines of the proxy's
// server log instead of printing them among the test's output.
type handshakeErrors struct{ n atomic.Int64 }

func (h *handshakeErrors) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "TLS handshake error") {
		h.n.Add(1)
	}
	return len(b), nil
}

// TLSConfig is a client configuration that trusts the proxy and presents
// the accepted client certificate.
func (p *MutualTLSProxy) TLSConfig() *tls.Config {
	pair, err := tls.X509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		panic("s3test: the client pair does not load: " + err.Error())
	}
	return &tls.Config{RootCAs: p.ca.Pool(), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}
