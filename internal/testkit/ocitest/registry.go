package ocitest

import (
	"bufio"
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
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

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

// prepare writes the files the configuration points to and sets up the
// clients' TLS.
func (r *Registry) prepare() error {
	if err := os.MkdirAll(r.StorageDir, 0o755); err != nil {
		return err
	}
	if r.opts.TLS {
		r.CA = r.opts.CA
		if r.CA == nil {
			r.CA = testca.New("ocitest CA")
		}
		r.CAPEM = r.CA.CertPEM
		server := r.CA.Server(r.opts.Hosts...)
		if err := r.writeFiles(map[string][]byte{"ca.crt": r.CAPEM, "tls.crt": server.CertPEM, "tls.key": server.KeyPEM}); err != nil {
			return err
		}
		r.tlsConfig = &tls.Config{RootCAs: r.CA.Pool(), MinVersion: tls.VersionTLS12}
		if r.opts.ClientCert {
			client := r.CA.Client("ocitest client")
			r.ClientCertPEM, r.ClientKeyPEM = client.CertPEM, client.KeyPEM
			r.tlsConfig.Certificates = []tls.Certificate{client.TLSCertificate()}
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = r.TLSConfig()
	r.client = &http.Client{Transport: transport, Timeout: 30 * time.Second}

	if r.opts.Auth == NoAuth {
		return nil
	}
	r.Username, r.Password = r.opts.Username, r.opts.Password
	if r.Username == "" {
		r.Username = "ocitest"
	}
	if r.Password == "" {
		r.Password = randomHex(12)
	}
	switch r.opts.Auth {
	case BasicAuth:
		hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("hash the htpasswd password: %w", err)
		}
		return r.writeFiles(map[string][]byte{"htpasswd": []byte(r.Username + ":" + string(hash) + "\n")})
	case TokenAuth:
		ts, err := newTokenServer(r.CA, r.Username, r.Password, r.opts.AnonymousPull)
		if err != nil {
			return err
		}
		r.TokenServer = ts
		return r.writeFiles(map[string][]byte{"token-root.crt": ts.rootPEM})
	}
	return fmt.Errorf("unknown auth %v", r.opts.Auth)
}

func (r *Registry) writeFiles(files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(r.dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// config is the registry's configuration file (version 0.1, read alike
// by distribution v3 and Debian's docker-registry 2.8).
func (r *Registry) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %q
  secret: %q
`, r.StorageDir, r.Host, randomHex(16))
	if r.opts.TLS {
		fmt.Fprintf(&b, `  tls:
    certificate: %q
    key: %q
`, filepath.Join(r.dir, "tls.crt"), filepath.Join(r.dir, "tls.key"))
		if r.opts.ClientCert {
			fmt.Fprintf(&b, "    clientcas:\n      - %q\n", filepath.Join(r.dir, "ca.crt"))
		}
	}
	switch r.opts.Auth {
	case BasicAuth:
		fmt.Fprintf(&b, `auth:
  htpasswd:
    realm: ocitest
    path: %q
`, filepath.Join(r.dir, "htpasswd"))
	case TokenAuth:
		fmt.Fprintf(&b, `auth:
  token:
    realm: %q
    service: %q
    issuer: %q
    rootcertbundle: %q
`, r.TokenServer.Realm, r.TokenServer.Service, r.TokenServer.Issuer, filepath.Join(r.dir, "token-root.crt"))
	}
	return b.String()
}

// start runs the registry on a free port and waits until it answers.
func (r *Registry) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	r.URL = "http://" + r.Host
	if r.opts.TLS {
		r.URL = "https://" + r.Host
	}
	configPath := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(r.config()), 0o600); err != nil {
		return err
	}

	r.mu.Lock()
	r.log, r.requests, r.marks, r.nextMark, r.ready = nil, nil, 0, 0, false
	r.mu.Unlock()

	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return err
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return err
	}
	cmd := exec.Command(r.bin, "serve", configPath)
	cmd.Env = registryEnv()
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return fmt.Errorf("start the registry %s: %w", r.bin, err)
	}
	exited := make(chan struct{})
	r.cmd, r.exited = cmd, exited
	var readers sync.WaitGroup
	readers.Add(2)
	go r.read(&readers, stdoutR, true)
	go r.read(&readers, stderrR, false)
	go func() {
		readers.Wait()
		err := cmd.Wait()
		r.mu.Lock()
		r.waitErr = err
		close(exited)
		r.changed.Broadcast()
		r.mu.Unlock()
	}()

	if err := r.waitListening(60 * time.Second); err != nil {
		r.kill()
		return err
	}
	// The first mark request is the GET /v2/ the registry must answer:
	// 200, or 401 with a challenge when it requires authentication.
	resp, err := r.mark()
	if err != nil {
		r.kill()
		return fmt.Errorf("registry %s: GET /v2/: %w\n%s", r.Host, err, r.logTail())
	}
	want := http.StatusOK
	if r.opts.Auth != NoAuth {
		want = http.StatusUnauthorized
	}
	if resp.StatusCode != want {
		r.kill()
		return fmt.Errorf("registry %s: GET /v2/ answered %s, want %d\n%s", r.Host, resp.Status, want, r.logTail())
	}
	return nil
}

// registryEnv is the test's environment without the REGISTRY_* variables
// that would override the configuration file, and with the OpenTelemetry
// exporter of distribution v3 switched off (it would dial localhost:4318).
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
}

// waitListening waits for the registry's "listening on" log line, which it
// writes once its listener is open, or for it to exit.
func (r *Registry) waitListening(timeout time.Duration) error {
	timer := time.AfterFunc(timeout, func() {
		r.mu.Lock()
		r.changed.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.ready {
		select {
		case <-r.exited:
			return fmt.Errorf("registry %s exited before it listened (%v):\n%s", r.bin, r.waitErr, tail(r.log))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry %s not listening after %s:\n%s", r.bin, timeout, tail(r.log))
		}
		r.changed.Wait()
	}
	return nil
}

// read copies one of the registry's outputs into the log; stdout carries
// the access log, one line per request.
func (r *Registry) read(done *sync.WaitGroup, f *os.File, access bool) {
	defer done.Done()
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for s.Scan() {
		line := s.Text()
		r.mu.Lock()
		r.log = append(r.log, line...)
		r.log = append(r.log, '\n')
		if access {
			if req, ok := parseAccessLine(line); ok {
				if n, ok := markOf(req.URI); ok {
					if n > r.marks {
						r.marks = n
					}
				} else {
					r.requests = append(r.requests, req)
				}
			}
		} else if strings.Contains(line, "listening on") {
			r.ready = true
		}
		r.changed.Broadcast()
		r.mu.Unlock()
	}
}

// Close stops the registry (SIGTERM, then SIGKILL after 10s), stops the
// token server and removes the registry's files.
func (r *Registry) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if r.cmd != nil {
			r.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited already
			select {
			case <-r.exited:
			case <-time.After(10 * time.Second):
				r.kill()
				err = fmt.Errorf("registry %s did not stop within 10s of SIGTERM; killed", r.Host)
			}
		}
		r.cleanup()
	})
	return err
}

func (r *Registry) kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill() //nolint:errcheck // it may have exited already
	<-r.exited
}

func (r *Registry) cleanup() {
	if r.TokenServer != nil {
		r.TokenServer.close()
	}
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	os.RemoveAll(r.dir)
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

// Log is what the registry wrote so far: its JSON log (stderr) and its
// access log (stdout), interleaved as read.
func (r *Registry) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.log)
}

func (r *Registry) logTail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return tail(r.log)
}

func tail(log []byte) string {
	const max = 16 * 1024
	if len(log) > max {
		return "[...]\n" + string(log[len(log)-max:])
	}
	return string(log)
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
