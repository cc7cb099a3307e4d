// Package gitserver serves bare Git repositories over smart HTTP, for
// programs (the local GitOps demo) rather than tests: fetch and push through
// `git http-backend`, optionally behind HTTP basic authentication.
package gitserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// shutdownTimeout bounds how long Close waits for requests in flight.
const shutdownTimeout = 5 * time.Second

// Server serves the bare repositories under a root directory: a repository
// at ROOT/fleet.git is cloned from URL()+"/fleet.git".
type Server struct {
	root               string
	username, password string
	handler            http.Handler

	mu   sync.Mutex
	srv  *http.Server
	addr string
	done chan struct{}
}

// New prepares a server for the bare repositories under root (created if
// missing). With a username, every request needs HTTP basic authentication
// with that username and password; with none, the server is anonymous.
func New(root, username, password string) (*Server, error) {
	if username == "" && password != "" {
		return nil, errors.New("gitserver: a password needs a username")
	}
	if username != "" && password == "" {
		return nil, errors.New("gitserver: a username needs a password")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("gitserver: root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("gitserver: creating the root: %w", err)
	}
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("gitserver: git --exec-path: %w (install git)", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("gitserver: %s: %w (install git with its HTTP backend)", backend, err)
	}
	env := []string{
		"GIT_PROJECT_ROOT=" + abs,
		"GIT_HTTP_EXPORT_ALL=1",
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + abs,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
	}
	env = append(env, configEnv([][2]string{
		{"http.receivepack", "true"},
		// The backend may run as another user than the repositories' owner.
		{"safe.directory", "*"},
	})...)
	return &Server{
		root:     abs,
		username: username,
		password: password,
		handler:  &cgi.Handler{Path: backend, Root: "/", Env: env, Stderr: io.Discard},
	}, nil
}

// configEnv passes git configuration through the environment.
func configEnv(kv [][2]string) []string {
	env := []string{"GIT_CONFIG_COUNT=" + strconv.Itoa(len(kv))}
	for i, p := range kv {
		env = append(env, "GIT_CONFIG_KEY_"+strconv.Itoa(i)+"="+p[0], "GIT_CONFIG_VALUE_"+strconv.Itoa(i)+"="+p[1])
	}
	return env
}

// Root is the directory holding the bare repositories.
func (s *Server) Root() string { return s.root }

// Start listens on addr (for example 127.0.0.1:0 for a free port) and serves
// in the background until Close.
func (s *Server) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return fmt.Errorf("gitserver: already serving on %s", s.addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gitserver: listen on %s: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ErrorLog:          log.New(io.Discard, "", 0),
		ReadHeaderTimeout: 30 * time.Second,
	}
	s.srv = srv
	s.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Close
	}(s.done)
	return nil
}

// URL is the server's base URL, such as http://127.0.0.1:41234, or "" before
// Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return ""
	}
	return "http://" + s.addr
}

// RepoURL is the clone URL of the repository name.
func (s *Server) RepoURL(name string) string {
	return s.URL() + "/" + strings.TrimPrefix(name, "/")
}

// Close stops serving: it waits (a few seconds at most) for requests in
// flight, whose git http-backend processes then exit, and closes the rest.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-done
	return err
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.username != "" {
		user, pass, ok := r.BasicAuth()
		if !ok || !equal(user, s.username) || !equal(pass, s.password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="driftless"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
	}
	s.handler.ServeHTTP(w, r)
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
