// Package web is Driftless' web UI: pages rendered on the server with
// html/template and one hand-written CSS file, all embedded, readable
// without JavaScript (plain links and GET forms), with the vendored htmx
// on top for what needs it. Every kind comes from the catalogue
// (internal/kinds) and every read goes through a Store, so the controller's
// cache and `flux ui`'s informers serve the same pages.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/driftless/driftless/internal/web/auth"
)

//go:embed static templates
var files embed.FS

// Headers every response carries. The policy names no origin but the UI's
// own and allows no inline script or style, which the pages keep to.
const (
	contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

// Options configure the UI.
type Options struct {
	// Store is where every page reads from.
	Store Store
	// Now is the clock that ages are measured against; nil is time.Now.
	Now func() time.Time
	// Hosts are the host names (without port) the UI answers to; a
	// request naming another Host gets 403, against DNS rebinding. `flux
	// ui` passes 127.0.0.1 and localhost. None allows nothing.
	Hosts []string
	// Log receives render and read errors; nil discards them.
	Log *slog.Logger
	// MaxStreams bounds the live-update streams open at once: past it a
	// stream gets 503 and the page says live updates are off. Zero is
	// DefaultMaxStreams; negative allows none.
	MaxStreams int
	// Heartbeat is how often a stream sends a comment line; zero is 15 s.
	Heartbeat time.Duration
	// Access, when set, filters every read by the viewer's RBAC: the
	// in-cluster UI reads from the controller's cache, which holds every
	// namespace (accessStore). `flux ui` leaves it nil: its informers run
	// with the user's own credentials, so the API server filters.
	Access Access
	// Events, when set, is where the object page reads the Kubernetes
	// Events of the object and of its related objects (events.go). In
	// the cluster it reads as the controller, after an Access check per
	// namespace; for `flux ui` with the user's credentials. Nil leaves
	// the Events section out.
	Events EventSource
	// Context ends every stream when it is done (the server shutting
	// down); nil leaves that to UI.Close.
	Context context.Context
	// Objects reads objects of any kind, for the inventory tree and the
	// "who manages this?" lookup (inventory.go, lookup.go); nil leaves
	// both out. Its reads are gated by Access when that is set.
	Objects ObjectReader

	// Auth is how visitors get a session (session.go): the login page
	// (AuthToken, the zero value) or `flux ui`'s one-time URL (AuthLocal).
	// Every page needs a session unless Anonymous lets visitors without
	// one read as auth.AnonymousUser.
	Auth      AuthMode
	Anonymous bool
	// Sessions holds the sessions; nil is a new in-memory store.
	Sessions *auth.Sessions
	// Login checks pasted tokens (AuthToken); nil refuses every login.
	Login *auth.Authenticator
	// OneTime is the token `flux ui` printed (AuthLocal).
	OneTime *auth.OneTime
	// Proxy, when set, is the authenticating proxy in front of the
	// in-cluster UI (--web-auth-proxy-ca): a request on a connection whose
	// client certificate it vouches for is the user its X-Remote-User and
	// X-Remote-Group headers name, and acts by impersonation (proxy.go).
	// Other requests log in with a token as usual.
	Proxy *auth.Proxy

	// Actor carries out actions as the viewer; nil shows no action.
	Actor Actor
	// ActionTimeout is how long a page waits for the controller to
	// handle a reconcile request before saying nothing did; zero is
	// DefaultActionTimeout.
	ActionTimeout time.Duration
}

type server struct {
	// store is what handlers read, filtered by the viewer when access
	// is set; base is the store unfiltered, only for its notices.
	store  Store
	base   Store
	access Access
	now    func() time.Time
	hosts  map[string]bool
	log    *slog.Logger
	pages  map[string]*template.Template
	hub    *hub
	sess   sessionState
	actor  Actor
	// actionTimeout bounds the wait for a reconcile request's handling.
	actionTimeout time.Duration
	// objects reads any kind (Options.Objects), nil when not given.
	objects ObjectReader
	// builds shares overview builds among streams (builds.go).
	builds sharedBuilds

	// eventSource is Options.Events, nil for no Events section.
	eventSource EventSource
}

// New returns the UI's handler, a *UI: its Close ends the live streams.
func New(opts Options) http.Handler { return NewUI(opts) }

func newServer(opts Options) *server {
	s := &server{store: opts.Store, base: opts.Store, access: opts.Access, now: opts.Now, hosts: map[string]bool{}, log: opts.Log, pages: parsePages(),
		sess: newSessionState(opts), actor: opts.Actor, actionTimeout: opts.ActionTimeout}
	if s.actionTimeout <= 0 {
		s.actionTimeout = DefaultActionTimeout
	}
	s.eventSource = opts.Events
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.access != nil {
		s.store = &accessStore{Store: opts.Store, access: s.access, log: s.log}
	}
	for _, h := range opts.Hosts {
		s.hosts[strings.ToLower(h)] = true
	}
	s.hub = newHub(opts)
	s.objects = opts.Objects
	return s
}

// handler routes the pages and the static files behind the security
// headers and the Host check.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /o/{group}/{kind}/{namespace}/{name}", s.object)
	mux.HandleFunc("GET /graph", s.graphPage)
	mux.HandleFunc("GET /graph.json", s.graphJSON)
	mux.HandleFunc("GET /events/{path...}", s.events)
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) })
	s.authRoutes(mux)
	s.actionRoutes(mux)
	return s.secure(s.authenticate(mux))
}

// secure sets the headers every response carries, then refuses a Host the
// UI does not serve.
func (s *server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if !s.hosts[hostName(r.Host)] {
			http.Error(w, "forbidden: host "+quoteHost(r.Host)+" is not one this UI serves", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostName is the Host header without its port, lower case.
func hostName(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// quoteHost bounds and quotes a Host for an error message.
func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100] + "…"
	}
	return `"` + strings.ToValidUTF8(h, "?") + `"`
}

// staticFiles serves the embedded static/ directory, without listings.
func staticFiles() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		fsrv.ServeHTTP(w, r)
	})
}

// render writes page name with data and status code: never cached,
// gzipped when the client takes it.
func (s *server) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	if p, ok := data.(page); ok {
		p.Viewer, p.Scope, p.Trouble = viewer(r), scopeNotice(s.base), troubleNotice(s.base)
		data = p
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := s.pages[name].ExecuteTemplate(buf, "layout", data); err != nil {
		s.log.Error("render page", "page", name, "error", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r) {
		w.WriteHeader(code)
		_, _ = w.Write(buf.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(code)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w)
	_, _ = zw.Write(buf.Bytes())
	_ = zw.Close()
	gzipWriters.Put(zw)
}

// Pages are rendered into a buffer (so that a template error is a 500,
// not half a page) and gzipped: at 1,000 objects the overview is 824 KiB,
// and a gzip writer holds about 800 KiB of tables. Pages opened together
// reuse both rather than each growing its own.
var (
	pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}
)

// pageBufferKept bounds the buffers the pool keeps: one grown by an
// unusually large page is let go rather than held for ever.
const pageBufferKept = 4 << 20

func putPageBuffer(b *bytes.Buffer) {
	if b.Cap() > pageBufferKept {
		return
	}
	b.Reset()
	pageBuffers.Put(b)
}

// acceptsGzip tells whether Accept-Encoding lists gzip with a non-zero q.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// notFound is the one answer for an unknown kind, object or path: it does
// not confirm that anything exists.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found"})
}

// page is what the layout needs from every page.
type page struct {
	Title string
	Body  any
	// Live is how the page connects to its stream, nil for a page
	// without live updates.
	Live *liveLink
	// Viewer, Scope and Trouble are filled by render: who is looking (for
	// the logout form and the CSRF token), what a limited store leaves out,
	// and why what the store holds may be stale.
	Viewer  Viewer
	Scope   string
	Trouble string
}
