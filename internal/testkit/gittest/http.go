package gittest

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// HTTPOptions configures NewHTTPServer. With no credentials set the server
// is anonymous; with both basic and bearer credentials set either works.
type HTTPOptions struct {
	// Username and Password require HTTP basic authentication.
	Username string
	Password string
	// BearerToken requires `Authorization: Bearer <token>`.
	BearerToken string
	// Authorize, when set, decides basic-auth logins instead of Username
	// and Password, so that a fake hosting API can accept the tokens it
	// hands out.
	Authorize func(username, password string) bool
	// TLS serves HTTPS with a certificate from a fresh CA (HTTPServer.CAPEM).
	TLS bool
	// RequireClientCert demands a client certificate issued by the same CA
	// (mutual TLS; see HTTPServer.ClientCertificate). It implies TLS.
	RequireClientCert bool
	// AllowReachableSHA1InWant lets clients fetch any reachable commit by
	// hash (uploadpack.allowReachableSHA1InWant), as GitHub and GitLab do.
	AllowReachableSHA1InWant bool
}

// Request is one request a server received.
type Request struct {
	// Method is the HTTP method, or "exec" for SSH.
	Method string
	// Path is the URL path, or for SSH the command's repository argument.
	Path string
	// Service is git-upload-pack or git-receive-pack when known.
	Service string
	// Command is the protocol v2 command of a POST ("ls-refs", "fetch"), or
	// "" for protocol v0/v1 and for SSH.
	Command string
}

// HTTPServer serves the repositories under a root directory over smart
// HTTP with git http-backend, on 127.0.0.1.
type HTTPServer struct {
	// CAPEM is the PEM certificate of the CA that signed the server's
	// certificate (the `ca.crt` secret value); nil without TLS.
	CAPEM []byte

	t       testing.TB
	opts    HTTPOptions
	ca      *testca.CA
	handler http.Handler
	tls     *tls.Config
	addr    string

	mu       sync.Mutex
	srv      *http.Server
	requests []Request
	hang     chan struct{}
}

// NewHTTPServer starts a server for the repositories under root and stops
// it when the test ends.
func NewHTTPServer(t testing.TB, root string, opts HTTPOptions) *HTTPServer {
	t.Helper()
	if opts.RequireClientCert {
		opts.TLS = true
	}
	backend := filepath.Join(gitExecPath(t), "git-http-backend")
	env := append(configEnv(opts.AllowReachableSHA1InWant), "GIT_PROJECT_ROOT="+root, "GIT_HTTP_EXPORT_ALL=1")
	env = append(env, gitEnv(t.TempDir())[1:]...)
	s := &HTTPServer{t: t, opts: opts}
	s.handler = &cgi.Handler{Path: backend, Root: "/", Env: env, Stderr: io.Discard}
	if opts.TLS {
		s.ca = testca.New("gittest CA")
		s.CAPEM = s.ca.CertPEM
		s.tls = &tls.Config{Certificates: []tls.Certificate{s.ca.Server().TLSCertificate()}, MinVersion: tls.VersionTLS12}
		if opts.RequireClientCert {
			s.tls.ClientCAs = s.ca.Pool()
			s.tls.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's base URL, for example http://127.0.0.1:41234.
func (s *HTTPServer) URL() string {
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	return scheme + "://" + s.addr
}

// RepoURL is the clone URL of repository name (a Repo.Name) on this server.
func (s *HTTPServer) RepoURL(name string) string {
	return s.URL() + "/" + strings.TrimPrefix(name, "/")
}

// ClientCertificate issues a client certificate and key (PEM) trusted by a
// server started with RequireClientCert: the `tls.crt` and `tls.key` values.
func (s *HTTPServer) ClientCertificate() (certPEM, keyPEM []byte) {
	s.t.Helper()
	if s.ca == nil {
		s.t.Fatal("gittest: ClientCertificate needs a TLS server")
	}
	pair := s.ca.Client("gittest client")
	return pair.CertPEM, pair.KeyPEM
}

// Start listens again on the server's address after Stop. It is called by
// NewHTTPServer.
func (s *HTTPServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatalf("gittest: listen on %s: %v", addr, err)
	}
	s.addr = ln.Addr().String()
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ErrorLog: log.New(io.Discard, "", 0)}
	s.srv = srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.t.Errorf("gittest: HTTP server: %v", err)
		}
	}()
}

// Stop closes the listener and every connection; clients then get
// "connection refused" from the same URL until Start.
func (s *HTTPServer) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	if s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// SetHang makes the server accept requests and never answer them (true),
// until the client gives up, SetHang(false) or Stop.
func (s *HTTPServer) SetHang(hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case hang && s.hang == nil:
		s.hang = make(chan struct{})
	case !hang && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// Requests returns the requests received so far, in order.
func (s *HTTPServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// PackRequests counts the requests that transfer a pack (POST to
// git-upload-pack or git-receive-pack, other than a protocol v2 ls-refs), as
// opposed to reference listings.
func (s *HTTPServer) PackRequests() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost && r.Service != "" && r.Command != "ls-refs" {
			n++
		}
	}
	return n
}

// ResetRequests forgets the requests received so far.
func (s *HTTPServer) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *HTTPServer) serve(w http.ResponseWriter, r *http.Request) {
	service := r.URL.Query().Get("service")
	if base := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]; strings.HasPrefix(base, "git-") && r.Method == http.MethodPost {
		service = base
	}
	command := ""
	if r.Method == http.MethodPost && strings.Contains(r.Header.Get("Git-Protocol"), "version=2") {
		command = peekCommand(r)
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Service: service, Command: command})
	hang := s.hang
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		http.Error(w, "server was hanging", http.StatusServiceUnavailable)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	s.handler.ServeHTTP(w, r)
}

func (s *HTTPServer) authorized(r *http.Request) bool {
	if s.opts.Authorize != nil {
		user, pass, ok := r.BasicAuth()
		return ok && s.opts.Authorize(user, pass)
	}
	if s.opts.Username == "" && s.opts.BearerToken == "" {
		return true
	}
	if user, pass, ok := r.BasicAuth(); ok && s.opts.Username != "" {
		return equal(user, s.opts.Username) && equal(pass, s.opts.Password)
	}
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.opts.BearerToken != "" {
		return equal(token, s.opts.BearerToken)
	}
	return false
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// configEnv passes server-side git configuration through the environment.
func configEnv(allowSHA1 bool) []string {
	kv := [][2]string{{"http.receivepack", "true"}, {"receive.denyCurrentBranch", "ignore"}}
	if allowSHA1 {
		kv = append(kv, [2]string{"uploadpack.allowReachableSHA1InWant", "true"})
	}
	env := []string{"GIT_CONFIG_COUNT=" + strconv.Itoa(len(kv))}
	for i, p := range kv {
		env = append(env, "GIT_CONFIG_KEY_"+strconv.Itoa(i)+"="+p[0], "GIT_CONFIG_VALUE_"+strconv.Itoa(i)+"="+p[1])
	}
	return env
}

// gitExecPath is where git keeps its helpers such as git-http-backend.
func gitExecPath(t testing.TB) string {
	t.Helper()
	out, err := command(nil, "git", "--exec-path")
	if err != nil {
		t.Fatalf("gittest: git --exec-path: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// peekCommand reads the protocol v2 command of a request body (the first
// pkt-line, "command=<name>") and leaves the body intact for the backend.
func peekCommand(r *http.Request) string {
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	var plain io.Reader = bytes.NewReader(body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return ""
		}
		plain = zr
	}
	head := make([]byte, 64)
	n, _ := io.ReadFull(plain, head)
	if n < 4 {
		return ""
	}
	line, _, _ := strings.Cut(string(head[4:n]), "\n")
	cmd, _ := strings.CutPrefix(line, "command=")
	return cmd
}
