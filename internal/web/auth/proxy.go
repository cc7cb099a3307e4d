package auth

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Headers an authenticating proxy sets, as kube-apiserver's request-header
// authentication reads them.
const (
	HeaderRemoteUser  = "X-Remote-User"
	HeaderRemoteGroup = "X-Remote-Group"
)

// Proxy is the authenticating-proxy mode (--web-auth-proxy-ca): user and
// groups come from X-Remote-User and X-Remote-Group, trusted only on a
// connection whose client certificate is signed by the CA.
type Proxy struct {
	roots *x509.CertPool
	// AllowedNames, when set, are the common names a proxy's client
	// certificate may have (kube-apiserver's
	// --requestheader-allowed-names); empty allows any the CA signed.
	AllowedNames []string
}

// LoadProxy reads the CA bundle (PEM) at file.
func LoadProxy(file string) (*Proxy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the auth proxy CA: %w", err)
	}
	return NewProxy(data)
}

// NewProxy trusts the CA certificates in pemCerts.
func NewProxy(pemCerts []byte) (*Proxy, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCerts) {
		return nil, fmt.Errorf("the auth proxy CA holds no PEM certificate")
	}
	return &Proxy{roots: pool}, nil
}

// ClientCAs is the pool for the server's tls.Config (ClientCAs, with
// ClientAuth tls.VerifyClientCertIfGiven, so browsers without a
// certificate still reach the token login).
func (p *Proxy) ClientCAs() *x509.CertPool { return p.roots }

// User returns the user the proxy names in r, and false when r does not
// come from the proxy (no TLS, no verified client certificate chain, a
// certificate of another CA or name) or names no user or more than one:
// then the headers are ignored.
func (p *Proxy) User(r *http.Request) (User, bool) {
	if !p.verified(r) {
		return User{}, false
	}
	// Two user headers mean a proxy that added its own to the browser's
	// instead of replacing it: which one is the proxy's is anyone's guess,
	// so neither is believed.
	names := r.Header.Values(HeaderRemoteUser)
	if len(names) != 1 {
		return User{}, false
	}
	name := strings.TrimSpace(names[0])
	if name == "" {
		return User{}, false
	}
	var groups []string
	for _, g := range r.Header.Values(HeaderRemoteGroup) {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	return User{Name: name, Groups: groups}, true
}

// verified says whether r's connection presented a client certificate that
// the TLS handshake verified and that chains to p's CA: the handshake may
// trust more CAs than this one, so the leaf is checked again here.
func (p *Proxy) verified(r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         p.roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return false
	}
	return len(p.AllowedNames) == 0 || slices.Contains(p.AllowedNames, leaf.Subject.CommonName)
}
