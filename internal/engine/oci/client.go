package oci

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultTimeout bounds every call when Options.Timeout is zero; it is the
// default of an OCIRepository's spec.timeout.
const DefaultTimeout = 60 * time.Second

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "driftless"

// Options configure a Client. The zero value talks HTTPS anonymously
// through the proxy of the environment.
type Options struct {
	// Keychain resolves credentials per registry, e.g. from
	// KeychainFromDockerConfig or authn.DefaultKeychain.
	Keychain authn.Keychain
	// Auth, when set, is used for every registry and wins over Keychain
	// (the CLI's --creds user[:password]).
	Auth authn.Authenticator
	// TLS is the client TLS configuration (CA, client certificate), e.g.
	// from TLSConfigFromSecret; nil uses the system roots.
	TLS *tls.Config
	// Proxy, when set, carries every request and wins over HTTPS_PROXY and
	// HTTP_PROXY; nil uses the environment's proxy.
	Proxy *url.URL
	// Insecure allows plain HTTP. Without it every request is HTTPS, also
	// to loopback and private addresses where go-containerregistry would
	// fall back to plain HTTP by itself.
	Insecure bool
	// Timeout bounds every call of the Client (default DefaultTimeout).
	Timeout time.Duration
	// UserAgent is sent with every request (default DefaultUserAgent).
	UserAgent string
	// Dial, when set, opens the connections (tests map made-up host names
	// to local listeners with it).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client talks to OCI registries. It is safe for concurrent use.
type Client struct {
	opts Options
	// transport carries every request: TLS, proxy, dialer, the plain HTTP
	// guard and the user agent; authentication is added per call.
	transport http.RoundTripper
}

// NewClient returns a Client for opts.
func NewClient(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	if opts.TLS != nil {
		base.TLSClientConfig = opts.TLS.Clone()
	}
	if opts.Proxy != nil {
		base.Proxy = http.ProxyURL(opts.Proxy)
	}
	if opts.Dial != nil {
		base.DialContext = opts.Dial
	}
	var rt http.RoundTripper = base
	if !opts.Insecure {
		rt = httpsOnly{inner: rt}
	}
	return &Client{opts: opts, transport: transport.NewUserAgent(rt, opts.UserAgent)}
}

// httpsOnly refuses plain HTTP requests: go-containerregistry tries plain
// HTTP by itself for loopback and private addresses, and follows token
// realms and redirects of any scheme.
type httpsOnly struct{ inner http.RoundTripper }

// RoundTrip sends HTTPS requests and refuses any other.
func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, &errInsecureRefused{host: r.URL.Host}
	}
	return h.inner.RoundTrip(r)
}

// Timeout returns the bound of every call.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// RemoteOptions returns the go-containerregistry options that make remote
// calls behave as this Client's (transport, credentials, user agent), for
// code that talks to the registry itself, such as the cosign verifier.
// ctx should carry the deadline of the caller's pass; build references
// with NameOptions.
func (c *Client) RemoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.transport),
		remote.WithUserAgent(c.opts.UserAgent),
	}
	switch {
	case c.opts.Auth != nil:
		opts = append(opts, remote.WithAuth(c.opts.Auth))
	case c.opts.Keychain != nil:
		opts = append(opts, remote.WithAuthFromKeychain(c.opts.Keychain))
	}
	return opts
}

// NameOptions returns the go-containerregistry name options matching the
// Client (name.Insecure when Insecure is set).
func (c *Client) NameOptions() []name.Option {
	if c.opts.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// authenticator returns the credentials for repo and whether there are any.
func (c *Client) authenticator(repo name.Repository) (authn.Authenticator, bool, error) {
	auth := c.opts.Auth
	if auth == nil && c.opts.Keychain != nil {
		a, err := c.opts.Keychain.Resolve(repo)
		if err != nil {
			return nil, false, err
		}
		auth = a
	}
	if auth == nil || auth == authn.Anonymous {
		return authn.Anonymous, false, nil
	}
	cfg, err := authn.Authorization(context.Background(), auth)
	if err != nil {
		return nil, false, err
	}
	has := cfg != nil && (cfg.Username != "" || cfg.Password != "" || cfg.Auth != "" || cfg.IdentityToken != "" || cfg.RegistryToken != "")
	return auth, has, nil
}
