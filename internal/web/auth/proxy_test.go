package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key}
}

func (ca testCA) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

func (ca testCA) client(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func TestProxyUser(t *testing.T) {
	ca := newCA(t, "proxy-ca")
	other := newCA(t, "other-ca")
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, ca.pem(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProxy(file)
	if err != nil {
		t.Fatal(err)
	}
	good := ca.client(t, "front-proxy")
	foreign := other.client(t, "front-proxy")

	proxied := func(state *tls.ConnectionState) (*User, bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.TLS = state
		r.Header.Set(HeaderRemoteUser, "jane@example.com")
		r.Header.Add(HeaderRemoteGroup, "team-a")
		r.Header.Add(HeaderRemoteGroup, "team-b")
		u, ok := p.User(r)
		return &u, ok
	}
	chain := func(c *x509.Certificate, root *x509.Certificate) *tls.ConnectionState {
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}, VerifiedChains: [][]*x509.Certificate{{c, root}}}
	}

	u, ok := proxied(chain(good, ca.cert))
	if !ok || u.Name != "jane@example.com" || !slices.Equal(u.Groups, []string{"team-a", "team-b"}) || u.Anonymous {
		t.Errorf("verified proxy: %+v, %t", u, ok)
	}
	for name, state := range map[string]*tls.ConnectionState{
		"plain HTTP":              nil,
		"TLS without client cert": {},
		"cert not verified":       {PeerCertificates: []*x509.Certificate{good}},
		"cert of another CA":      chain(foreign, other.cert),
	} {
		if u, ok := proxied(state); ok {
			t.Errorf("%s: headers trusted: %+v", name, u)
		}
	}

	// Allowed names narrow the certificates further.
	p.AllowedNames = []string{"front-proxy"}
	if _, ok := proxied(chain(good, ca.cert)); !ok {
		t.Error("allowed name refused")
	}
	p.AllowedNames = []string{"another-proxy"}
	if _, ok := proxied(chain(good, ca.cert)); ok {
		t.Error("a certificate with a name not allowed was trusted")
	}
	p.AllowedNames = nil

	// No user header: no user, even from the proxy.
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = chain(good, ca.cert)
	if _, ok := p.User(r); ok {
		t.Error("a proxied request without X-Remote-User made a user")
	}

	// A browser's own X-Remote-User that the proxy appended to rather
	// than replaced: neither value is believed.
	r = httptest.NewRequest("GET", "/", nil)
	r.TLS = chain(good, ca.cert)
	r.Header.Add(HeaderRemoteUser, "admin")
	r.Header.Add(HeaderRemoteUser, "jane@example.com")
	if u, ok := p.User(r); ok {
		t.Errorf("two X-Remote-User headers made user %+v", u)
	}

	if _, err := NewProxy([]byte("not pem")); err == nil {
		t.Error("a CA file without certificates was accepted")
	}
}

// TestProxyOverTLS runs real handshakes: a server trusting two CAs for
// client certificates (as one with other client-certificate uses might)
// still trusts the headers only from the proxy CA's certificates.
func TestProxyOverTLS(t *testing.T) {
	ca := newCA(t, "proxy-ca")
	other := newCA(t, "other-ca")
	p, err := NewProxy(ca.pem())
	if err != nil {
		t.Fatal(err)
	}
	pool := p.ClientCAs().Clone()
	pool.AddCert(other.cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := p.User(r); ok {
			fmt.Fprintf(w, "%s %s", u.Name, strings.Join(u.Groups, ","))
			return
		}
		fmt.Fprint(w, "nobody")
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()

	get := func(cert *tls.Certificate) string {
		t.Helper()
		client := srv.Client()
		tr := client.Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		client = &http.Client{Transport: tr}
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set(HeaderRemoteUser, "jane")
		req.Header.Add(HeaderRemoteGroup, "team-a")
		req.Header.Add(HeaderRemoteGroup, "team-b")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if got := get(nil); got != "nobody" {
		t.Errorf("without a client certificate: %q", got)
	}
	if got := get(ca.keyPair(t, "front-proxy")); got != "jane team-a,team-b" {
		t.Errorf("with the proxy's certificate: %q", got)
	}
	if got := get(other.keyPair(t, "front-proxy")); got != "nobody" {
		t.Errorf("with another CA's certificate: %q", got)
	}
}

func (ca testCA) keyPair(t *testing.T, cn string) *tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
