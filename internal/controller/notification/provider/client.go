package provider

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxRedirects bounds the redirects a provider's answer may ask for.
const maxRedirects = 5

type proxySettings struct {
	url *url.URL
}

// proxyFromSecret reads proxySecretRef: address, and username with
// password for basic authentication.
func proxyFromSecret(s *corev1.Secret) (*proxySettings, error) {
	address, ok := secretValue(s, AddressKey)
	if !ok {
		return nil, fmt.Errorf("has no key %s (the proxy URL)", AddressKey)
	}
	u, err := checkProxy(address)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", AddressKey, err)
	}
	user, hasUser := secretValue(s, UsernameKey)
	password, hasPassword := secretValue(s, PasswordKey)
	if hasUser != hasPassword {
		return nil, fmt.Errorf("needs both keys %s and %s for proxy authentication, or neither", UsernameKey, PasswordKey)
	}
	if hasUser {
		u.User = url.UserPassword(user, password)
	}
	return &proxySettings{url: u}, nil
}

// checkProxy parses a proxy URL without quoting it.
func checkProxy(address string) (*url.URL, error) {
	if len(address) > MaxAddressLength {
		return nil, fmt.Errorf("the proxy URL is longer than %d bytes", MaxAddressLength)
	}
	u, err := url.Parse(address)
	if err != nil {
		return nil, errors.New("the proxy is not a URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5":
	default:
		return nil, errors.New("the proxy URL must be http://, https:// or socks5:// with a host")
	}
	if u.Host == "" {
		return nil, errors.New("the proxy URL must be http://, https:// or socks5:// with a host")
	}
	return u, nil
}

// tlsFromSecret reads certSecretRef: ca.crt, added to the system's roots,
// and tls.crt with tls.key for mutual TLS. Nil secret: no TLS settings.
func tlsFromSecret(s *corev1.Secret) (*tls.Config, error) {
	if s == nil {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	ca, hasCA := s.Data[CACertKey]
	cert, hasCert := s.Data[TLSCertKey]
	key, hasKey := s.Data[TLSKeyKey]
	if !hasCA && !hasCert && !hasKey {
		return nil, fmt.Errorf("has none of the keys %s, %s and %s", CACertKey, TLSCertKey, TLSKeyKey)
	}
	if hasCA {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("key %s: no PEM certificate in it", CACertKey)
		}
		cfg.RootCAs = pool
	}
	if hasCert != hasKey {
		return nil, fmt.Errorf("needs both keys %s and %s for mutual TLS, or neither", TLSCertKey, TLSKeyKey)
	}
	if hasCert {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("keys %s and %s: not a matching PEM certificate and private key", TLSCertKey, TLSKeyKey)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// httpClient is the Provider's client: its timeout per attempt, its proxy
// (none means the process's environment), its TLS settings, and no
// redirect to another host (a token sent to one host must not follow a
// redirect to another).
func httpClient(timeout time.Duration, px *proxySettings, tlsConfig *tls.Config) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if px != nil {
		transport.Proxy = http.ProxyURL(px.url)
	}
	if tlsConfig != nil {
		transport.TLSClientConfig = tlsConfig
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Host != via[0].URL.Host {
				return fmt.Errorf("refused a redirect to another host (%s)", req.URL.Host)
			}
			return nil
		},
	}
}
