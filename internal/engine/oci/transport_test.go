package oci

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/driftless/driftless/internal/testkit/tartest"
)

// basicAuth requires user:pass on every /v2/ request.
func basicAuth(user, pass string) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func dockerConfig(t *testing.T, host, user, pass string) authn.Keychain {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"username": user, "password": pass}}})
	kc, err := KeychainFromDockerConfig(map[string][]byte{DockerConfigJSONKey: b})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestBasicAuth(t *testing.T) {
	reg := startRegistry(t, basicAuth("alice", "right-password"))
	repo := reg.repo("private/app")
	good := insecureClient(func(o *Options) { o.Keychain = dockerConfig(t, reg.host, "alice", "right-password") })
	d := pushTags(t, good, repo, "1.0.0")["1.0.0"]
	if got, err := good.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"}); err != nil || got.Digest != d {
		t.Fatalf("resolve with the docker config: %+v, %v", got, err)
	}
	byAuth := insecureClient(func(o *Options) { o.Auth = &authn.Basic{Username: "alice", Password: "right-password"} })
	if _, err := byAuth.Pull(context.Background(), repo, d, PullOptions{Dir: t.TempDir()}); err != nil {
		t.Fatalf("pull with Options.Auth: %v", err)
	}

	_, err := insecureClient().Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	e := wantKind(t, err, ErrUnauthorized, "no credentials were sent (none are configured for "+reg.host+")")
	if e.CredentialsSent {
		t.Error("CredentialsSent without credentials")
	}

	other := insecureClient(func(o *Options) { o.Keychain = dockerConfig(t, "ghcr.io", "alice", "right-password") })
	_, err = other.Resolve(context.Background(), repo, Selector{})
	wantKind(t, err, ErrUnauthorized, "no credentials were sent")

	wrong := insecureClient(func(o *Options) { o.Keychain = dockerConfig(t, reg.host, "alice", "wrong-s3cret") })
	for name, call := range map[string]func() error{
		"resolve": func() error { _, err := wrong.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"}); return err },
		"push": func() error {
			_, err := wrong.Push(context.Background(), repo, "2", tartest.TarGz(t), PushOptions{})
			return err
		},
		"list": func() error { _, err := wrong.List(context.Background(), repo, ListOptions{}); return err },
	} {
		err := call()
		e := wantKind(t, err, ErrUnauthorized, "credentials were sent and refused", "repository private/app")
		if !e.CredentialsSent {
			t.Errorf("%s: CredentialsSent = false", name)
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte("alice:wrong-s3cret"))) {
			t.Errorf("%s: error %q shows the password", name, err)
		}
	}
}

// forbid answers 403 for one repository.
func forbid(path string) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/v2/"+path+"/") {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`, http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestForbidden(t *testing.T) {
	reg := startRegistry(t, forbid("team-b/app"), basicAuth("alice", "pw"))
	c := insecureClient(func(o *Options) { o.Keychain = dockerConfig(t, reg.host, "alice", "pw") })
	_, err := c.Resolve(context.Background(), reg.repo("team-b/app"), Selector{Tag: "1"})
	e := wantKind(t, err, ErrForbidden, "credentials were sent but do not grant access", `tag "1"`)
	if !e.CredentialsSent {
		t.Error("CredentialsSent = false")
	}
}

// tokenServer issues a bearer token for user:pass, the flow public
// registries use; it records the scopes asked.
type tokenServer struct {
	srv    *httptest.Server
	issued atomic.Int64
	mu     sync.Mutex
	scopes []string
}

func newTokenServer(t *testing.T, user, pass, token string) *tokenServer {
	ts := &tokenServer{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
			return
		}
		ts.mu.Lock()
		ts.scopes = append(ts.scopes, r.URL.Query()["scope"]...)
		ts.mu.Unlock()
		ts.issued.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "expires_in": 300})
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

// bearer requires the token, pointing at the token server.
func bearer(realm, token string) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="test-registry"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestBearerToken(t *testing.T) {
	ts := newTokenServer(t, "bob", "token-pw", "the-token")
	// The token server has a host name of its own, as public registries'
	// do (go-containerregistry refuses realms on private IP addresses).
	const authHost = "auth.example.test:8443"
	reg := startRegistry(t, bearer("http://"+authHost+"/token", "the-token"))
	dial := dialTo(map[string]string{authHost: strings.TrimPrefix(ts.srv.URL, "http://")})
	repo := reg.repo("org/app")
	c := insecureClient(func(o *Options) {
		o.Auth = &authn.Basic{Username: "bob", Password: "token-pw"}
		o.Dial = dial
	})
	d := pushTags(t, c, repo, "1.0.0")["1.0.0"]
	got, err := c.Resolve(context.Background(), repo, Selector{SemVer: "1.x"})
	if err != nil || got.Digest != d {
		t.Fatalf("resolve: %+v, %v", got, err)
	}
	if ts.issued.Load() == 0 {
		t.Error("no token was issued")
	}
	ts.mu.Lock()
	scopes := strings.Join(ts.scopes, " ")
	ts.mu.Unlock()
	if !strings.Contains(scopes, "repository:org/app:pull") || !strings.Contains(scopes, "repository:org/app:push,pull") {
		t.Errorf("scopes asked: %s", scopes)
	}

	_, err = insecureClient(func(o *Options) { o.Dial = dial }).Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	if e := wantKind(t, err, ErrUnauthorized, "no credentials were sent"); e.CredentialsSent {
		t.Error("CredentialsSent for an anonymous client")
	}
	wrong := insecureClient(func(o *Options) {
		o.Auth = &authn.Basic{Username: "bob", Password: "nope-s3cret"}
		o.Dial = dial
	})
	_, err = wrong.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	if e := wantKind(t, err, ErrUnauthorized, "credentials were sent and refused"); !e.CredentialsSent || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("wrong credentials: %v (sent %v)", err, e.CredentialsSent)
	}
}

func certPool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func TestTLS(t *testing.T) {
	var pages atomic.Int64
	reg := startTLSRegistry(t, pageTags(1, &pages))
	repo := reg.repo("secure/app")
	trusted := NewClient(Options{TLS: &tls.Config{RootCAs: certPool(reg.srv.Certificate())}})
	d := pushTags(t, trusted, repo, "1.0.0", "1.1.0")["1.1.0"]
	// Paging over HTTPS on a loopback address, where go-containerregistry's
	// own lister expects plain HTTP links.
	res, err := trusted.Resolve(context.Background(), repo, Selector{SemVer: "1.x"})
	if err != nil || res.Digest != d || pages.Load() != 2 {
		t.Fatalf("resolve over %d pages: %+v, %v", pages.Load(), res, err)
	}
	if _, err := trusted.Pull(context.Background(), repo, d, PullOptions{Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}

	_, err = NewClient(Options{}).Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	wantKind(t, err, ErrTLS, "signed by an unknown authority", "repository secure/app")

	// Plain HTTP expected, the registry speaks HTTPS.
	_, err = NewClient(Options{Insecure: true}).Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	wantKind(t, err, ErrTLS)
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	pair, err := tls.X509KeyPair(pki.serverCert, pki.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int64
	handler := newRegistryHandler(nil)
	srv := quietServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
		handler.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: certPool(pki.ca)}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	repo := Repository{Registry: strings.TrimPrefix(srv.URL, "https://"), Path: "mtls/app"}

	full, err := TLSConfigFromSecret(map[string][]byte{CAKey: pki.caPEM, CertKey: pki.clientCert, KeyKey: pki.clientKey})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(Options{TLS: full})
	pushTags(t, c, repo, "1.0.0")
	if _, err := c.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"}); err != nil {
		t.Fatal(err)
	}

	caOnly, err := TLSConfigFromSecret(map[string][]byte{CAKey: pki.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	before := handled.Load()
	_, err = NewClient(Options{TLS: caOnly}).Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	wantKind(t, err, ErrTLS)
	if handled.Load() != before {
		t.Error("a request without a client certificate was handled")
	}
}

// TestInsecureRule: plain HTTP only with Insecure, also where
// go-containerregistry would fall back to it by itself (loopback,
// *.localhost, private addresses) and under a made-up host name.
func TestInsecureRule(t *testing.T) {
	reg := startRegistry(t)
	for _, host := range []string{reg.host, "localhost:5000", "registry.localhost:5000", "10.1.2.3:5000", "192.168.7.8:5000", "172.20.0.1:5000", "registry.example.test:5000"} {
		t.Run(host, func(t *testing.T) {
			dial := dialTo(map[string]string{host: reg.host})
			repo := Repository{Registry: host, Path: "app"}
			insecure := NewClient(Options{Insecure: true, Dial: dial})
			pushTags(t, insecure, repo, "1.0.0")

			before := reg.requests.Load()
			secure := NewClient(Options{Dial: dial})
			_, err := secure.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
			wantKind(t, err, ErrTLS, "HTTPS was expected but the registry answered in plain HTTP", "registry "+host)
			_, err = secure.Push(context.Background(), repo, "2.0.0", tartest.TarGz(t), PushOptions{})
			wantKind(t, err, ErrTLS)
			if n := reg.requests.Load() - before; n != 0 {
				t.Errorf("%d plain HTTP requests reached the registry without insecure", n)
			}
			// The options handed to the cosign verifier keep the rule.
			ref, _ := name.NewTag(host+"/app:1.0.0", secure.NameOptions()...)
			if _, err := remote.Head(ref, secure.RemoteOptions(context.Background())...); err == nil {
				t.Error("RemoteOptions reached a plain HTTP registry without insecure")
			}
			if _, err := insecure.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"}); err != nil {
				t.Errorf("insecure: %v", err)
			}
		})
	}
}

func TestRemoteOptions(t *testing.T) {
	reg := startTLSRegistry(t, basicAuth("alice", "pw"))
	c := NewClient(Options{
		TLS:      &tls.Config{RootCAs: certPool(reg.srv.Certificate())},
		Keychain: dockerConfig(t, reg.host, "alice", "pw"),
	})
	d := pushTags(t, c, reg.repo("app"), "1.0.0")["1.0.0"]
	ref, err := name.NewTag(reg.host+"/app:1.0.0", c.NameOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref, c.RemoteOptions(context.Background())...)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != d {
		t.Errorf("HEAD through RemoteOptions: %s, want %s", desc.Digest, d)
	}
}

// countingProxy forwards plain HTTP requests and tunnels CONNECT when they
// carry the proxy credentials, resolving made-up hosts with dial.
type countingProxy struct {
	srv      *httptest.Server
	requests atomic.Int64
}

func newCountingProxy(t *testing.T, user, pass string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *countingProxy {
	p := &countingProxy{}
	upstream := &http.Transport{DialContext: dial}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
		if r.Method == http.MethodConnect {
			tunnel(w, r, dial)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Authorization")
		resp, err := upstream.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.srv.Close)
	t.Cleanup(upstream.CloseIdleConnections)
	return p
}

// tunnel connects the client to r.Host.
func tunnel(w http.ResponseWriter, r *http.Request, dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	up, err := dial(r.Context(), "tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		_, _ = io.Copy(up, rw)
		_ = up.Close()
	}()
	_, _ = io.Copy(conn, up)
	_ = conn.Close()
}

func TestProxy(t *testing.T) {
	reg := startRegistry(t)
	const host = "registry.behind-proxy.test:5000" // only the proxy knows it
	proxy := newCountingProxy(t, "pu", "pp", dialTo(map[string]string{host: reg.host}))
	proxyURL, err := ProxyFromSecret(map[string][]byte{
		ProxyAddressKey: []byte(proxy.srv.URL), ProxyUsernameKey: []byte("pu"), ProxyPasswordKey: []byte("pp"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(Options{Insecure: true, Proxy: proxyURL})
	repo := Repository{Registry: host, Path: "app"}
	d := pushTags(t, c, repo, "1.0.0")["1.0.0"]
	got, err := c.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	if err != nil || got.Digest != d {
		t.Fatalf("resolve through the proxy: %+v, %v", got, err)
	}
	if proxy.requests.Load() == 0 || reg.requests.Load() == 0 {
		t.Errorf("proxy saw %d requests, registry %d", proxy.requests.Load(), reg.requests.Load())
	}

	// HTTPS through a CONNECT tunnel, under a name only the proxy
	// resolves (httptest's certificate is valid for example.com).
	tlsReg := startTLSRegistry(t)
	tlsProxy := newCountingProxy(t, "pu", "pp", dialTo(map[string]string{"example.com:443": tlsReg.host}))
	tlsProxyURL, _ := url.Parse(tlsProxy.srv.URL)
	tlsProxyURL.User = url.UserPassword("pu", "pp")
	secure := NewClient(Options{Proxy: tlsProxyURL, TLS: &tls.Config{RootCAs: certPool(tlsReg.srv.Certificate())}})
	secureRepo := Repository{Registry: "example.com", Path: "app"}
	d = pushTags(t, secure, secureRepo, "1.0.0")["1.0.0"]
	if got, err := secure.Resolve(context.Background(), secureRepo, Selector{Tag: "1.0.0"}); err != nil || got.Digest != d {
		t.Fatalf("resolve through the tunnel: %+v, %v", got, err)
	}
	if tlsProxy.requests.Load() == 0 || tlsReg.requests.Load() == 0 {
		t.Errorf("proxy saw %d tunnels, registry %d requests", tlsProxy.requests.Load(), tlsReg.requests.Load())
	}

	wrongURL, _ := url.Parse(proxy.srv.URL)
	wrongURL.User = url.UserPassword("pu", "nope-s3cret")
	_, err = NewClient(Options{Insecure: true, Proxy: wrongURL}).Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	wantKind(t, err, ErrUnreachable, "the proxy refused the request")
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the proxy password", err)
	}
}

// hangingListener accepts connections and never answers.
func hangingListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func TestTimeout(t *testing.T) {
	addr := hangingListener(t)
	repo := Repository{Registry: addr, Path: "app"}
	for _, insecure := range []bool{false, true} {
		c := NewClient(Options{Timeout: 200 * time.Millisecond, Insecure: insecure})
		_, err := c.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
		wantKind(t, err, ErrTimeout, "no answer from the registry within 200ms", `tag "1.0.0"`)
		_, err = c.Push(context.Background(), repo, "1.0.0", tartest.TarGz(t), PushOptions{})
		wantKind(t, err, ErrTimeout)
		_, err = c.Pull(context.Background(), repo, "sha256:"+strings.Repeat("a", 64), PullOptions{Dir: t.TempDir()})
		wantKind(t, err, ErrTimeout)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	for _, insecure := range []bool{false, true} {
		_, err = NewClient(Options{Insecure: insecure}).Resolve(context.Background(), Repository{Registry: addr, Path: "app"}, Selector{})
		wantKind(t, err, ErrUnreachable, "connection refused", "registry "+addr)
	}
}
