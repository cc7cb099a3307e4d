package cli

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// fakeHost is the common part of the fake hosting APIs: a TLS API server
// that records every request and keeps repositories, deploy keys and
// tokens, with the Git side served by the real Git servers of gittest
// (HTTPS for the command line, SSH for deploy keys). Each service's fake
// adds its own routes and JSON.
type fakeHost struct {
	t   *testing.T
	api *httptest.Server
	mux *http.ServeMux
	// authorized says whether a request carries the token in the
	// service's header.
	authorized func(r *http.Request) bool
	token      string
	root       string
	gitHTTP    *gittest.HTTPServer
	gitSSH     *gittest.SSHServer
	caFile     string

	mu       sync.Mutex
	requests []fakeRequest
	// forbidden routes (ServeMux patterns) answer 403, as for a token
	// without the scope.
	forbidden map[string]bool
	repos     map[string]*fakeRepo
	nextID    int64
}

type fakeRequest struct {
	method, path, pattern string
	body                  map[string]any
	query                 string
}

type fakeRepo struct {
	owner, name string
	visibility  string
	keys        []fakeKey
	teams       map[string]string
	tokens      []fakeToken
	git         *gittest.Repo
}

type fakeKey struct {
	id       int64
	title    string
	key      string
	readOnly bool
}

type fakeToken struct {
	id                    int64
	name, username, token string
	revoked               bool
}

func newFakeHost(t *testing.T, token string, authorized func(r *http.Request, token string) bool) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, token: token, root: t.TempDir(), forbidden: map[string]bool{}, repos: map[string]*fakeRepo{}, mux: http.NewServeMux()}
	h.authorized = func(r *http.Request) bool { return authorized(r, token) }
	h.gitHTTP = gittest.NewHTTPServer(t, h.root, gittest.HTTPOptions{TLS: true, Authorize: h.gitLogin})
	h.gitSSH = gittest.NewSSHServer(t, h.root, gittest.SSHOptions{AuthorizeKey: h.deployKeyLogin})
	h.api = httptest.NewUnstartedServer(h.mux)
	h.api.StartTLS()
	t.Cleanup(h.api.Close)
	var bundle bytes.Buffer
	_ = pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: h.api.Certificate().Raw})
	bundle.Write(h.gitHTTP.CAPEM)
	h.caFile = filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(h.caFile, bundle.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// hostname is the API's host:port, for --hostname.
func (h *fakeHost) hostname() string { return h.api.Listener.Addr().String() }

// gitLogin accepts the API token under any user name and active deploy
// tokens under their user name.
func (h *fakeHost) gitLogin(user, pass string) bool {
	if pass == h.token {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.repos {
		for _, tok := range r.tokens {
			if !tok.revoked && tok.username == user && tok.token == pass {
				return true
			}
		}
	}
	return false
}

// deployKeyLogin accepts registered deploy keys over SSH.
func (h *fakeHost) deployKeyLogin(key ssh.PublicKey) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.repos {
		for _, k := range r.keys {
			if keyWire(k.key) == string(key.Marshal()) {
				return true
			}
		}
	}
	return false
}

// handle registers a route that checks the token, records the request and
// answers 403 when the route is forbidden. fn runs with h.mu held.
func (h *fakeHost) handle(pattern string, fn func(w http.ResponseWriter, r *http.Request, body map[string]any)) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(data) > 0 {
			if err := json.Unmarshal(data, &body); err != nil {
				h.t.Errorf("%s %s: body is not a JSON object: %v\n%s", r.Method, r.URL.Path, err, data)
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests = append(h.requests, fakeRequest{method: r.Method, path: r.URL.Path, pattern: pattern, body: body, query: r.URL.RawQuery})
		if !h.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
			return
		}
		if h.forbidden[pattern] {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden: insufficient scope"})
			return
		}
		fn(w, r, body)
	})
}

func (h *fakeHost) forbid(pattern string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forbidden[pattern] = true
}

// newRepo creates the Git repository behind a fake repository, with a
// README on main when initialised.
func (h *fakeHost) newRepo(owner, name, visibility string, initialise bool) *fakeRepo {
	r := &fakeRepo{owner: owner, name: name, visibility: visibility, teams: map[string]string{}}
	r.git = gittest.NewRepoAt(h.t, h.root, owner+"/"+name+".git")
	if initialise {
		r.git.CommitFiles("main", map[string]string{"README.md": "# " + name + "\n"}, "Initial commit")
	}
	h.repos[owner+"/"+name] = r
	return r
}

func (h *fakeHost) id() int64 {
	h.nextID++
	return h.nextID
}

func (h *fakeHost) httpURL(r *fakeRepo) string {
	return h.gitHTTP.RepoURL(r.owner + "/" + r.name + ".git")
}
func (h *fakeHost) sshURL(r *fakeRepo) string { return h.gitSSH.URL(r.owner + "/" + r.name + ".git") }

// scpURL is the SSH URL in GitHub's and GitLab's user@host:path form,
// which cannot carry a port: the tests give the port with --ssh-hostname.
func (h *fakeHost) scpURL(r *fakeRepo) string {
	host, _, _ := net.SplitHostPort(h.gitSSH.Addr())
	return "git@" + host + ":" + r.owner + "/" + r.name + ".git"
}

func (h *fakeHost) repo(full string) *fakeRepo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repos[full]
}

// calls lists the requests as "METHOD path", optionally only the writes.
func (h *fakeHost) calls(writesOnly bool) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.requests {
		if writesOnly && r.method == http.MethodGet {
			continue
		}
		out = append(out, r.method+" "+r.path)
	}
	return out
}

// request returns the first request to pattern with method.
func (h *fakeHost) request(method, pattern string) (fakeRequest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.requests {
		if r.method == method && strings.HasSuffix(r.pattern, pattern) {
			return r, true
		}
	}
	return fakeRequest{}, false
}

func (h *fakeHost) resetRequests() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// runFluxEnv is runFlux with environment variables.
func runFluxEnv(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.Getenv = func(k string) string { return vars[k] }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig()}, args...))
	err = root.Execute()
	return out.String(), errOut.String(), err
}
