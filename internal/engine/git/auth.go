package git

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// Keys of a GitRepository auth secret (spec.secretRef) and proxy secret
// (spec.proxySecretRef), as Flux documents them.
const (
	UsernameKey    = "username"
	PasswordKey    = "password"
	BearerTokenKey = "bearerToken"
	CACertKey      = "ca.crt"
	// CAFileKey is the legacy name of CACertKey.
	CAFileKey     = "caFile"
	TLSCertKey    = "tls.crt"
	TLSKeyKey     = "tls.key"
	IdentityKey   = "identity"
	KnownHostsKey = "known_hosts"
	// ProxyAddressKey is the proxy URL (http, https or socks5) in a proxy secret,
	// which also takes UsernameKey and PasswordKey.
	ProxyAddressKey = "address"
)

// DefaultSSHUser is the SSH user when the URL names none.
const DefaultSSHUser = "git"

// Auth holds the credentials and TLS material for one remote. Build it with
// AuthFromSecret; its fields are private so secret values cannot leak into
// logs through fmt.
type Auth struct {
	ssh bool

	username, password, bearerToken string
	caBundle, clientCert, clientKey []byte

	sshUser    string
	signer     ssh.Signer
	knownHosts *knownHosts
}

// String describes which kinds of credentials are present, never values.
func (a *Auth) String() string {
	if a == nil {
		return "no credentials"
	}
	var kinds []string
	if a.ssh {
		kinds = append(kinds, "ssh identity for user "+a.sshUser, "known_hosts")
	}
	if a.username != "" {
		kinds = append(kinds, "basic auth")
	}
	if a.bearerToken != "" {
		kinds = append(kinds, "bearer token")
	}
	if len(a.caBundle) > 0 {
		kinds = append(kinds, "CA certificate")
	}
	if len(a.clientCert) > 0 {
		kinds = append(kinds, "client certificate")
	}
	if len(kinds) == 0 {
		return "no credentials"
	}
	return strings.Join(kinds, ", ")
}

// GoString keeps %#v from printing secret fields.
func (a *Auth) GoString() string { return "git.Auth{" + a.String() + "}" }

// AuthFromSecret builds the credentials for the remote at u from the data of
// a GitRepository secretRef Secret. For http and https it reads username and
// password (basic auth) or bearerToken, ca.crt (or the legacy caFile), and
// tls.crt with tls.key for mutual TLS. For ssh it needs identity (a PEM
// private key, decrypted with password when encrypted) and known_hosts.
// Errors wrap ErrInvalidSecret or ErrInvalidURL and name keys, never values.
func AuthFromSecret(u *url.URL, data map[string][]byte) (*Auth, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: no URL", ErrInvalidURL)
	}
	switch u.Scheme {
	case "http", "https":
		return httpAuth(data)
	case "ssh":
		return sshAuth(u, data)
	default:
		return nil, fmt.Errorf("%w: scheme %q is not supported, use http, https or ssh", ErrInvalidURL, u.Scheme)
	}
}

func httpAuth(data map[string][]byte) (*Auth, error) {
	a := &Auth{
		username:    string(data[UsernameKey]),
		password:    string(data[PasswordKey]),
		bearerToken: string(data[BearerTokenKey]),
		clientCert:  data[TLSCertKey],
		clientKey:   data[TLSKeyKey],
	}
	if a.bearerToken != "" && (a.username != "" || a.password != "") {
		return nil, fmt.Errorf("%w: '%s' cannot be combined with '%s' and '%s': use either basic or bearer authentication",
			ErrInvalidSecret, BearerTokenKey, UsernameKey, PasswordKey)
	}
	if a.password != "" && a.username == "" {
		return nil, fmt.Errorf("%w: '%s' is set but '%s' is missing", ErrInvalidSecret, PasswordKey, UsernameKey)
	}
	ca, caKey := data[CACertKey], CACertKey
	if len(ca) == 0 {
		ca, caKey = data[CAFileKey], CAFileKey
	}
	if len(ca) > 0 {
		if !x509.NewCertPool().AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%w: '%s' holds no PEM-encoded certificate", ErrInvalidSecret, caKey)
		}
		a.caBundle = ca
	}
	switch {
	case len(a.clientCert) > 0 && len(a.clientKey) == 0:
		return nil, fmt.Errorf("%w: '%s' is set but '%s' is missing", ErrInvalidSecret, TLSCertKey, TLSKeyKey)
	case len(a.clientCert) == 0 && len(a.clientKey) > 0:
		return nil, fmt.Errorf("%w: '%s' is set but '%s' is missing", ErrInvalidSecret, TLSKeyKey, TLSCertKey)
	case len(a.clientCert) > 0:
		if _, err := tls.X509KeyPair(a.clientCert, a.clientKey); err != nil {
			return nil, fmt.Errorf("%w: '%s' and '%s' are not a valid key pair: %w", ErrInvalidSecret, TLSCertKey, TLSKeyKey, err)
		}
	}
	return a, nil
}

func sshAuth(u *url.URL, data map[string][]byte) (*Auth, error) {
	identity := data[IdentityKey]
	if len(identity) == 0 {
		return nil, fmt.Errorf("%w: '%s' (an SSH private key) is required for ssh URLs", ErrInvalidSecret, IdentityKey)
	}
	hosts := data[KnownHostsKey]
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%w: '%s' is required for ssh URLs", ErrInvalidSecret, KnownHostsKey)
	}
	signer, err := ssh.ParsePrivateKey(identity)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		password := data[PasswordKey]
		if len(password) == 0 {
			return nil, fmt.Errorf("%w: '%s' is encrypted and '%s' is not set", ErrInvalidSecret, IdentityKey, PasswordKey)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(identity, password)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("%w: '%s' does not decrypt '%s'", ErrInvalidSecret, PasswordKey, IdentityKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: '%s' is not a valid SSH private key: %w", ErrInvalidSecret, IdentityKey, err)
	}
	kh, err := parseKnownHosts(hosts)
	if err != nil {
		return nil, fmt.Errorf("%w: '%s': %w", ErrInvalidSecret, KnownHostsKey, err)
	}
	user := DefaultSSHUser
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	return &Auth{ssh: true, sshUser: user, signer: signer, knownHosts: kh}, nil
}

// Proxy is a proxy to reach the remote through.
type Proxy struct {
	// URL is the proxy address: http://, https:// or socks5://.
	URL      string
	Username string
	Password string
}

// String shows the proxy address without credentials.
func (p *Proxy) String() string {
	if p == nil {
		return "no proxy"
	}
	if u, err := url.Parse(p.URL); err == nil {
		return u.Redacted()
	}
	return "proxy"
}

// ProxyFromSecret reads a GitRepository proxySecretRef Secret: address
// (required), username and password (optional).
func ProxyFromSecret(data map[string][]byte) (*Proxy, error) {
	addr := strings.TrimSpace(string(data[ProxyAddressKey]))
	if addr == "" {
		return nil, fmt.Errorf("%w: proxy secret needs '%s'", ErrInvalidSecret, ProxyAddressKey)
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: proxy '%s' is not a URL with a host, such as http://proxy:3128", ErrInvalidSecret, ProxyAddressKey)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("%w: proxy '%s' scheme %q is not supported, use http, https or socks5", ErrInvalidSecret, ProxyAddressKey, u.Scheme)
	}
	p := &Proxy{URL: addr, Username: string(data[UsernameKey]), Password: string(data[PasswordKey])}
	if p.Password != "" && p.Username == "" {
		return nil, fmt.Errorf("%w: proxy '%s' is set but '%s' is missing", ErrInvalidSecret, PasswordKey, UsernameKey)
	}
	return p, nil
}

// remote is everything go-git needs to talk to one URL.
type remote struct {
	url      string
	redacted string
	auth     transport.AuthMethod
	ca       []byte
	cert     []byte
	key      []byte
	proxy    transport.ProxyOptions
}

// sshSettings are client-wide SSH algorithm choices.
type sshSettings struct {
	kex, hostKeyAlgos []string
}

// newRemote pairs a validated URL with its credentials. An ssh URL without
// credentials fails: go-git would fall back to the process's SSH agent and
// ~/.ssh/known_hosts, which a controller must not use.
func newRemote(u *url.URL, auth *Auth, proxy *Proxy, s sshSettings) (*remote, error) {
	r := &remote{url: u.String(), redacted: u.Redacted()}
	if proxy != nil {
		r.proxy = transport.ProxyOptions{URL: proxy.URL, Username: proxy.Username, Password: proxy.Password}
	}
	if u.Scheme == "ssh" {
		if auth == nil || !auth.ssh {
			return nil, fmt.Errorf("%w: %s needs a secret with '%s' and '%s'", ErrAuthentication, r.redacted, IdentityKey, KnownHostsKey)
		}
		algos := s.hostKeyAlgos
		if len(algos) == 0 {
			algos = auth.knownHosts.algorithms(hostPort(u))
		}
		r.auth = &sshMethod{user: auth.sshUser, signer: auth.signer, hostKeys: auth.knownHosts, hostKeyAlgos: algos, kex: s.kex}
		return r, nil
	}
	if auth == nil {
		// go-git uses credentials embedded in the URL, if any.
		return r, nil
	}
	if auth.ssh {
		return nil, fmt.Errorf("%w: %s is not an ssh URL but the secret holds SSH credentials", ErrInvalidSecret, r.redacted)
	}
	r.ca, r.cert, r.key = auth.caBundle, auth.clientCert, auth.clientKey
	switch {
	case auth.bearerToken != "":
		r.auth = &githttp.TokenAuth{Token: auth.bearerToken}
	case auth.username != "":
		r.auth = &githttp.BasicAuth{Username: auth.username, Password: auth.password}
	}
	return r, nil
}

// sshMethod is go-git's SSH auth with a known_hosts callback built from the
// secret and the client's algorithm choices.
type sshMethod struct {
	user         string
	signer       ssh.Signer
	hostKeys     *knownHosts
	hostKeyAlgos []string
	kex          []string
}

var _ gitssh.AuthMethod = (*sshMethod)(nil)

func (m *sshMethod) Name() string   { return gitssh.PublicKeysName }
func (m *sshMethod) String() string { return "user: " + m.user + ", name: " + m.Name() }

// ClientConfig is called by go-git for every connection.
func (m *sshMethod) ClientConfig() (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{
		User:              m.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(m.signer)},
		HostKeyCallback:   m.hostKeys.callback,
		HostKeyAlgorithms: m.hostKeyAlgos,
	}
	if len(m.kex) > 0 {
		cfg.KeyExchanges = m.kex
	}
	return cfg, nil
}
