package ocitest

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// Auth is how a registry authenticates its clients.
type Auth int

const (
	// NoAuth lets everyone pull and push.
	NoAuth Auth = iota
	// BasicAuth checks HTTP basic credentials against an htpasswd file
	// (bcrypt), the registry's auth.htpasswd.
	BasicAuth
	// TokenAuth is the flow public registries use (auth.token): the
	// registry answers 401 with a Bearer challenge naming a token server,
	// the client fetches a signed JWT from that server and retries with it.
	// The token server runs in the test process (Registry.TokenServer).
	TokenAuth
)

func (a Auth) String() string {
	switch a {
	case NoAuth:
		return "none"
	case BasicAuth:
		return "basic"
	case TokenAuth:
		return "token"
	}
	return fmt.Sprintf("Auth(%d)", int(a))
}

// Options choose the registry variant. The zero value is a plain HTTP
// registry anyone can push to.
type Options struct {
	// TLS serves HTTPS with a certificate from a fresh test CA
	// (Registry.CA). The token server of TokenAuth then serves HTTPS too.
	TLS bool
	// ClientCert requires a client certificate from the same CA
	// (http.tls.clientcas): mutual TLS. It implies TLS.
	ClientCert bool
	// Auth is the authentication scheme.
	Auth Auth
	// Username and Password are the one account of BasicAuth and
	// TokenAuth; when empty, "ocitest" and a random password.
	Username string
	Password string
	// AnonymousPull lets the token server of TokenAuth hand tokens to
	// clients without credentials, granting pull only, as public
	// registries do. Without it such requests get 401.
	AnonymousPull bool
	// Hosts are extra names (DNS names or IP addresses) the server
	// certificate is valid for, beside 127.0.0.1, ::1 and localhost.
	Hosts []string
	// CA issues the server certificate under TLS instead of a fresh CA:
	// one a test process already trusts as a public CA (SSL_CERT_FILE).
	CA *testca.CA
	// Binary is the registry to run; empty means RegistryBinary.
	Binary string
}

// Registry is a running registry process listening on 127.0.0.1.
type Registry struct {
	// Host is "127.0.0.1:<port>", the registry part of a reference.
	Host string
	// URL is the base URL, http:// or https:// with Host.
	URL string
	// Auth is the variant's authentication scheme.
	Auth Auth
	// CA issued the server certificate (and the client certificate and the
	// token server's certificates); nil without TLS.
	CA *testca.CA
	// CAPEM is CA's PEM certificate (the `ca.crt` of a certSecretRef); nil
	// without TLS.
	CAPEM []byte
	// ClientCertPEM and ClientKeyPEM are a client certificate and key the
	// registry accepts (`tls.crt`, `tls.key`); nil without ClientCert.
	ClientCertPEM []byte
	ClientKeyPEM  []byte
	// Username and Password are the account of BasicAuth and TokenAuth;
	// empty otherwise.
	Username string
	Password string
	// TokenServer issues the bearer tokens of TokenAuth; nil otherwise.
	TokenServer *TokenServer
	// StorageDir is the registry's filesystem storage root.
	StorageDir string

	opts      Options
	bin       string
	dir       string
	tlsConfig *tls.Config
	client    *http.Client

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // set under mu before exited closes

	mu       sync.Mutex
	changed  *sync.Cond
	log      []byte
	requests []Request
	marks    int // highest mark request seen in the access log
	nextMark int
	ready    bool

	closeOnce sync.Once
}

// Start runs a registry for the test and stops it when the test ends; the
// registry's log is printed if the test failed.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	if opts.Binary == "" {
		opts.Binary = RegistryBinary(t)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatalf("ocitest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ocitest: log of the registry at %s:\n%s", r.Host, r.Log())
		}
		if err := r.Close(); err != nil {
			t.Errorf("ocitest: %v", err)
		}
	})
	return r
}

// New runs a registry until Close, for a registry shared by a test
// package (started in TestMain). It returns once the registry answers
// GET /v2/.
func New(opts Options) (*Registry, error) {
	if opts.ClientCert {
		opts.TLS = true
	}
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = Tool("registry", RegistryBinaryEnv); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "ocitest-registry-")
	if err != nil {
		return nil, err
	}
	r := &Registry{opts: opts, bin: bin, dir: dir, Auth: opts.Auth, StorageDir: filepath.Join(dir, "storage")}
	r.changed = sync.NewCond(&r.mu)
	if err := r.prepare(); err != nil {
		r.cleanup()
		return nil, err
	}
	// The port is picked free and then handed to the registry, which can
	// lose it to another process in between; try again with a new port.
	for attempt := 0; ; attempt++ {
		err := r.start()
		if err == nil {
			return r, nil
		}
		if attempt < 4 && strings.Contains(r.Log(), "address already in use") {
			continue
		}
		r.cleanup()
		return nil, err
	}
}

// Ref is the reference of repository repo (a path like "app/manifests")
// on this registry, without tag or digest.
func (r *Registry) Ref(repo string) string {
	return r.Host + "/" + strings.TrimPrefix(repo, "/")
}

// TLSConfig is a client configuration trusting the registry's CA and
// presenting the client certificate when the registry requires one; nil
// for a plain HTTP registry.
func (r *Registry) TLSConfig() *tls.Config {
	if r.tlsConfig == nil {
		return nil
	}
	return r.tlsConfig.Clone()
}

// HTTPClient is a client for the registry's HTTP API with its TLS
// configuration and no credentials.
func (r *Registry) HTTPClient() *http.Client {
	return r.client
}

// DockerConfigJSON is a docker config.json (the `.dockerconfigjson` of a
// kubernetes.io/dockerconfigjson Secret) with the account for Host, or
// without entries when the registry needs no credentials.
func (r *Registry) DockerConfigJSON() []byte {
	type entry struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	auths := map[string]entry{}
	if r.Username != "" {
		auths[r.Host] = entry{r.Username, r.Password, base64.StdEncoding.EncodeToString([]byte(r.Username + ":" + r.Password))}
	}
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		panic(err) // strings only
	}
	return data
}

// ToolEnv is the environment for running crane or cosign against the
// registry: the test's environment with DOCKER_CONFIG pointing at a
// directory holding DockerConfigJSON and, with TLS, SSL_CERT_FILE at the
// CA. Those tools cannot present a client certificate; a ClientCert
// registry is out of their reach.
func (r *Registry) ToolEnv() ([]string, error) {
	dir := filepath.Join(r.dir, "docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), r.DockerConfigJSON(), 0o600); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_CONFIG=") && !strings.HasPrefix(kv, "SSL_CERT_FILE=") && !strings.HasPrefix(kv, "SSL_CERT_DIR=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DOCKER_CONFIG="+dir)
	if r.CAPEM != nil {
		env = append(env, "SSL_CERT_FILE="+filepath.Join(r.dir, "ca.crt"))
	}
	return env, nil
}

// Request is one request the registry's access log recorded.
type Request struct {
	// Method is the HTTP method, URI the request URI with its query.
	Method string
	URI    string
	// Status is the response status code.
	Status int
	// UserAgent is the client's User-Agent.
	UserAgent string
}

// Requests returns every request the registry served since it started,
// in the order it logged them. The registry writes a request's access-log
// line when its handler returns, before the server finishes a response it
// buffered (a manifest, a HEAD, an error, a tag list); Requests sends a
// marker request of its own and reads the log up to the marker's line, so
// such requests a test made before calling it are listed. A large blob
// download can reach the client before its handler returns, so its line
// may trail. Marker requests are not listed.
func (r *Registry) Requests() ([]Request, error) {
	resp, err := r.mark()
	if err != nil {
		return nil, fmt.Errorf("registry %s: marker request: %w", r.Host, err)
	}
	resp.Body.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...), nil
}

// mark sends GET /v2/?ocitest-mark=N and waits until the access log has
// its line.
func (r *Registry) mark() (*http.Response, error) {
	r.mu.Lock()
	r.nextMark++
	n := r.nextMark
	r.mu.Unlock()
	resp, err := r.client.Get(fmt.Sprintf("%s/v2/?ocitest-mark=%d", r.URL, n))
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	timer := time.AfterFunc(30*time.Second, func() {
		r.mu.Lock()
		r.changed.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.marks < n {
		select {
		case <-r.exited:
			return nil, errors.New("the registry exited")
		default:
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the access log has no line for the marker request after 30s (is log.accesslog disabled?)")
		}
		r.changed.Wait()
	}
	return resp, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
