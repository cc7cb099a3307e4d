package gittest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SSHOptions configures NewSSHServer.
type SSHOptions struct {
	// AuthorizedKeys are authorized_keys lines (SSHKey.AuthorizedKey) whose
	// keys may log in, as any user.
	AuthorizedKeys []string
	// AuthorizeKey, when set, also accepts the keys it returns true for,
	// so that a fake hosting API can accept the deploy keys it registers.
	AuthorizeKey func(ssh.PublicKey) bool
	// Password, when set, also accepts password authentication.
	Password string
	// HostKeys replace the generated Ed25519 host key; the first one is the
	// key KnownHosts reports.
	HostKeys []*SSHKey
	// AllowReachableSHA1InWant: see HTTPOptions.
	AllowReachableSHA1InWant bool
}

// SSHServer serves the repositories under a root directory over SSH on
// 127.0.0.1: exec requests for git-upload-pack and git-receive-pack run
// the real git commands.
type SSHServer struct {
	// HostKey is the server's primary host key.
	HostKey *SSHKey

	t      testing.TB
	root   string
	opts   SSHOptions
	config *ssh.ServerConfig
	addr   string

	mu         sync.Mutex
	authorized map[string]bool // marshalled public keys that may log in
	ln         net.Listener
	conns      map[net.Conn]struct{}
	requests   []Request
	hang       chan struct{}
	wg         sync.WaitGroup
}

// NewSSHServer starts a server for the repositories under root and stops it
// when the test ends.
func NewSSHServer(t testing.TB, root string, opts SSHOptions) *SSHServer {
	t.Helper()
	s := &SSHServer{t: t, root: root, opts: opts, conns: map[net.Conn]struct{}{}, authorized: map[string]bool{}}
	for _, line := range opts.AuthorizedKeys {
		if err := s.Authorize(line); err != nil {
			t.Fatalf("gittest: %v", err)
		}
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			ok := s.authorized[string(key.Marshal())]
			s.mu.Unlock()
			if ok || (opts.AuthorizeKey != nil && opts.AuthorizeKey(key)) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("unknown public key")
		},
	}
	if opts.Password != "" {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, pass []byte) (*ssh.Permissions, error) {
			if equal(string(pass), opts.Password) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	hostKeys := opts.HostKeys
	if len(hostKeys) == 0 {
		hostKeys = []*SSHKey{GenerateSSHKey(t)}
	}
	for _, k := range hostKeys {
		cfg.AddHostKey(k.Signer)
	}
	s.HostKey, s.config = hostKeys[0], cfg
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Authorize lets the key of an authorized_keys line log in from now on, as
// adding a deploy key to a repository does.
func (s *SSHServer) Authorize(authorizedKey string) error {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil {
		return fmt.Errorf("authorized key %q: %w", authorizedKey, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorized[string(key.Marshal())] = true
	return nil
}

// Addr is host:port of the server.
func (s *SSHServer) Addr() string { return s.addr }

// Port is the server's TCP port.
func (s *SSHServer) Port() int {
	_, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// URL is the clone URL of repository name: ssh://git@127.0.0.1:<port>/<name>.
func (s *SSHServer) URL(name string) string {
	return "ssh://git@" + s.addr + "/" + strings.TrimPrefix(name, "/")
}

// KnownHosts is the known_hosts line for the primary host key:
// "[127.0.0.1]:<port> ssh-ed25519 AAAA...".
func (s *SSHServer) KnownHosts() string {
	return s.KnownHostsLine(s.HostKey.PublicKey)
}

// KnownHostsLine is a known_hosts line that claims key for this server, to
// build mismatching or alternative entries.
func (s *SSHServer) KnownHostsLine(key ssh.PublicKey) string {
	return fmt.Sprintf("[127.0.0.1]:%d %s", s.Port(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
}

// Start listens again on the server's address after Stop. It is called by
// NewSSHServer.
func (s *SSHServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
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
	s.ln = ln
	s.wg.Add(1)
	go s.accept(ln)
}

// Stop closes the listener and every connection, and waits for them.
func (s *SSHServer) Stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	for c := range s.conns {
		_ = c.Close()
	}
	if s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
	s.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	s.wg.Wait()
}

// SetHang makes the server accept exec requests and never run them (true),
// until the client disconnects, SetHang(false) or Stop.
func (s *SSHServer) SetHang(hang bool) {
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

// Requests returns the exec requests received so far, in order.
func (s *SSHServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *SSHServer) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ln != ln {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handleConn(conn)
	}
}

func (s *SSHServer) handleConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		_ = conn.Close()
	}()
	sconn, chans, reqs, err := ssh.NewServerConn(conn, s.config)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = sconn.Wait()
		cancel()
	}()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ctx, ch, chReqs)
		}()
	}
	wg.Wait()
}

// session answers env requests and runs the first exec request.
func (s *SSHServer) session(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		switch req.Type {
		case "env":
			_ = req.Reply(true, nil)
		case "exec":
			var payload struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			status := s.exec(ctx, ch, payload.Command)
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// exec runs "git-upload-pack '<path>'" or "git-receive-pack '<path>'" and
// returns its exit status.
func (s *SSHServer) exec(ctx context.Context, ch ssh.Channel, command string) uint32 {
	service, arg, _ := strings.Cut(command, " ")
	path, err := unquote(arg)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: "exec", Path: path, Service: service})
	hang := s.hang
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
		}
		return 1
	}
	if service != "git-upload-pack" && service != "git-receive-pack" {
		fmt.Fprintf(ch.Stderr(), "gittest: unsupported command %q\n", service)
		return 127
	}
	dir, derr := s.repoDir(path)
	if err != nil || derr != nil {
		fmt.Fprintf(ch.Stderr(), "gittest: bad repository path %q\n", arg)
		return 128
	}
	args := []string{"-c", "uploadpack.allowReachableSHA1InWant=" + strconv.FormatBool(s.opts.AllowReachableSHA1InWant),
		strings.TrimPrefix(service, "git-"), dir}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = gitEnv(s.root)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 128
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(ch.Stderr(), "gittest: %v\n", err)
		return 128
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return uint32(exit.ExitCode())
		}
		return 128
	}
	return 0
}

// repoDir maps a client's repository path to a directory under root.
func (s *SSHServer) repoDir(path string) (string, error) {
	clean := filepath.Clean("/" + strings.TrimPrefix(path, "~/"))
	dir := filepath.Join(s.root, clean)
	if rel, err := filepath.Rel(s.root, dir); err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("path %q escapes the root", path)
	}
	return dir, nil
}

// unquote undoes the single-quoting git and go-git apply to the path.
func unquote(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if !strings.HasPrefix(arg, "'") {
		return arg, nil
	}
	var b strings.Builder
	quoted := false
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case !quoted && c == '\\' && i+1 < len(arg):
			i++
			b.WriteByte(arg[i])
		default:
			b.WriteByte(c)
		}
	}
	if quoted {
		return "", fmt.Errorf("unterminated quote in %q", arg)
	}
	return b.String(), nil
}
