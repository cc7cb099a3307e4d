package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/kinds"
)

// Live updates: a page opens a server-sent event stream at /events plus its
// own path and query (/events/?kind=… for the overview,
// /events/o/{group}/{kind}/{namespace}/{name} for an object). The stream
// subscribes to the Store and sends each changed fragment, rendered with
// the page's own templates, as an event named after the id of the element
// it replaces; htmx' SSE extension swaps it (sse-swap, outerHTML).
const (
	// DefaultMaxStreams is Options.MaxStreams' default.
	DefaultMaxStreams = 200
	// defaultHeartbeat is Options.Heartbeat's default.
	defaultHeartbeat = 15 * time.Second
	// flushEvery spaces a stream's sends: changes in between coalesce,
	// so an object updates at most 4 times a second on each client.
	flushEvery = 250 * time.Millisecond
	// maxPending bounds the changed objects a stream holds for its
	// client. Past it the stream drops them and sends one resync.
	maxPending = 256
	// writeTimeout ends a stream whose client stops reading.
	writeTimeout = 30 * time.Second
	// retryAfter is the Retry-After, in seconds, of a stream refused
	// for the limit.
	retryAfter = "30"
)

// UI is the web UI's handler with the hook that ends its streams.
type UI struct {
	http.Handler
	s *server
}

// NewUI returns the UI; Close it (or cancel Options.Context) on shutdown.
func NewUI(opts Options) *UI {
	s := newServer(opts)
	return &UI{Handler: s.handler(), s: s}
}

// Close ends every live stream and refuses new ones.
func (u *UI) Close() { u.s.hub.close() }

// hub counts the open streams and ends them on shutdown.
type hub struct {
	max       int
	heartbeat time.Duration
	flush     time.Duration

	mu     sync.Mutex
	open   int
	done   chan struct{}
	closed bool
	// kick ends the streams open now (and only those) when closed.
	kick chan struct{}
}

func newHub(opts Options) *hub {
	h := &hub{max: opts.MaxStreams, heartbeat: opts.Heartbeat, flush: flushEvery,
		done: make(chan struct{}), kick: make(chan struct{})}
	if h.max == 0 {
		h.max = DefaultMaxStreams
	}
	if h.heartbeat <= 0 {
		h.heartbeat = defaultHeartbeat
	}
	if opts.Context != nil {
		context.AfterFunc(opts.Context, h.close)
	}
	return h
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// full tells whether a new stream would be refused.
func (h *hub) full() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed || h.open >= h.max
}

// drop ends the streams open now and admits new ones: the clients
// reconnect (what a restarted replica looks like to them).
func (h *hub) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.kick)
	h.kick = make(chan struct{})
}

// acquire takes a stream slot and returns the channel that ends it
// early; false when there is no slot.
func (h *hub) acquire() (<-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.open >= h.max {
		return nil, false
	}
	h.open++
	return h.kick, true
}

func (h *hub) release() {
	h.mu.Lock()
	h.open--
	h.mu.Unlock()
}

// liveLink is what the layout needs to make a page live.
type liveLink struct {
	// Events is the stream's URL, Page the page's own (re-read on resync).
	Events, Page string
	// Off is set when the server refuses more streams.
	Off bool
}

// live is r's page's link to its stream.
func (s *server) live(r *http.Request) *liveLink {
	return &liveLink{Events: "/events" + r.URL.RequestURI(), Page: r.URL.RequestURI(), Off: s.hub.full()}
}

// ID is the stable id of the view's overview row, and its event's name.
func (v view) ID() string {
	if v.id != "" {
		return v.id
	}
	return rowElementID(v.Kind, v.Namespace, v.Name)
}

// rowID is the element id of the object's row.
func rowElementID(k kinds.Kind, namespace, name string) string {
	sum := sha256.Sum256([]byte(objectKey(k, namespace, name)))
	return "row-" + hex.EncodeToString(sum[:8])
}

// liveView is what a stream renders: the overview or one object.
type liveView interface {
	// start reads what the client shows as the stream opens; poke makes
	// the stream render again without a change (a timer's end).
	start(ctx context.Context, poke func())
	// wants tells whether a change concerns the page.
	wants(c Change) bool
	// render writes the events for the changes since the last call.
	// newest is when the latest of the changes reached the stream: what
	// the render reads must be at least that recent.
	render(ctx context.Context, w *eventWriter, changed map[string]Change, newest time.Time) error
}

// events serves a page's stream. HEAD answers whether a stream would be
// admitted, so that the page can tell "off" from "paused".
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	v, ok := s.liveViewFor(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	refuse := func() {
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "live updates are off: too many open streams", http.StatusServiceUnavailable)
	}
	if r.Method == http.MethodHead {
		if s.hub.full() {
			refuse()
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	kick, ok := s.hub.acquire()
	if !ok {
		refuse()
		return
	}
	defer s.hub.release()
	s.stream(w, r, v, kick)
}

// liveViewFor maps the stream's path to its page.
func (s *server) liveViewFor(r *http.Request) (liveView, bool) {
	path := r.PathValue("path")
	if path == "" {
		return &overviewLive{s: s, f: parseFilter(r.URL.Query()), rendered: r.URL.Query().Get(queryRendered)}, true
	}
	if path == "graph" {
		return &graphLive{s: s, scope: graphScope(r.URL.Query())}, true
	}
	parts := strings.Split(path, "/")
	if len(parts) != 5 || parts[0] != "o" {
		return nil, false
	}
	k, ok := kinds.ByGroupKind(schema.GroupKind{Group: parts[1], Kind: parts[2]})
	if !ok {
		return nil, false
	}
	q := r.URL.Query()
	return &objectLive{s: s, k: k, key: types.NamespacedName{Namespace: parts[3], Name: parts[4]}, query: q,
		rendered: q.Get(queryRendered)}, true
}

// pending is a stream's buffer: the latest change per object, bounded.
type pending struct {
	mu       sync.Mutex
	changes  map[string]Change
	overflow bool
	poked    bool
	// newest is when the latest change or poke reached the buffer: a
	// render must read state at least that recent (the store holds a
	// change before its subscribers hear of it).
	newest time.Time
	wake   chan struct{}
	// sidePoked is set when a sideFeed changed (eventslive.go).
	sidePoked bool
}

func (p *pending) add(c Change) {
	key := changeKey(c)
	p.mu.Lock()
	p.newest = time.Now()
	if !p.overflow {
		if _, ok := p.changes[key]; !ok && len(p.changes) >= maxPending {
			p.overflow, p.changes = true, map[string]Change{}
		} else {
			p.changes[key] = c
		}
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// newestSeen is when the latest change or poke taken reached the buffer.
func (p *pending) newestSeen() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.newest
}

// poke asks for a render with no change.
func (p *pending) poke() {
	p.mu.Lock()
	p.poked = true
	p.newest = time.Now()
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take empties the buffer; poked tells whether a render was asked for
// without a change.
func (p *pending) take() (changes map[string]Change, overflow, poked bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, o, k := p.changes, p.overflow, p.poked
	p.changes, p.overflow, p.poked = map[string]Change{}, false, false
	return c, o, k
}

// size is how many changes the buffer holds.
func (p *pending) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.changes)
}

func changeKey(c Change) string {
	return objectKey(c.Kind, c.Object.GetNamespace(), c.Object.GetName())
}

// objectKey is "group/Kind/namespace/name".
func objectKey(k kinds.Kind, namespace, name string) string {
	return k.Group + "/" + k.Kind + "/" + namespace + "/" + name
}

// streamHook, when set by a test, sees every stream's buffer.
var streamHook func(*pending)

// stream runs one client's stream until the client goes, a write fails
// or the server shuts down.
func (s *server) stream(w http.ResponseWriter, r *http.Request, v liveView, kick <-chan struct{}) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ew := &eventWriter{w: w, rc: rc}

	p := &pending{changes: map[string]Change{}, wake: make(chan struct{}, 1)}
	if streamHook != nil {
		streamHook(p)
	}
	cancel := s.store.Subscribe(func(c Change) {
		if v.wants(c) {
			p.add(c)
		}
	})
	defer cancel()
	v.start(r.Context(), p.poke)
	side, hasSide := v.(sideFeed)
	if hasSide {
		// The feed's watches end with the stream, whatever ends it.
		sideCtx, stop := context.WithCancel(r.Context())
		defer stop()
		go side.follow(sideCtx, p.pokeSide)
	}

	// The retry the browser waits before reconnecting, and a first
	// comment so that the client sees the stream open.
	if ew.raw("retry: 2000\n: live\n\n") != nil {
		return
	}
	beat := time.NewTicker(s.hub.heartbeat)
	defer beat.Stop()
	var last time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.done:
			return
		case <-kick:
			return
		case <-beat.C:
			if ew.raw(": heartbeat\n\n") != nil {
				return
			}
		case <-p.wake:
			if wait := flushWait(time.Now(), last, s.hub.flush); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-r.Context().Done():
					t.Stop()
					return
				case <-s.hub.done:
					t.Stop()
					return
				case <-kick:
					t.Stop()
					return
				case <-t.C:
				}
			}
			last = time.Now()
			changes, overflow, poked := p.take()
			newest := p.newestSeen()
			sidePoked := p.takeSidePoke()
			// A change the viewer may not see sends nothing, not even
			// the overview's summary.
			changes = s.visibleChanges(r.Context(), changes)
			var err error
			switch {
			case overflow:
				err = ew.event("resync", "")
			case len(changes) > 0 || poked:
				err = v.render(r.Context(), ew, changes, newest)
			}
			if err == nil && sidePoked && hasSide && !overflow {
				err = side.renderSide(r.Context(), ew)
			}
			if err != nil {
				if r.Context().Err() == nil {
					s.log.Info("live stream ended", "error", err)
				}
				return
			}
		}
	}
}

// flushWait is how long a woken stream waits before it renders: until the
// next multiple of flush on the clock, and at least flush after its last
// render (so at most one render per flush). On the clock's beat, the
// streams one change woke render at the same instant and share one
// overview build (sharedBuilds) instead of making one each.
func flushWait(now, last time.Time, flush time.Duration) time.Duration {
	if flush <= 0 {
		return 0
	}
	earliest := last.Add(flush)
	if earliest.Before(now) {
		earliest = now
	}
	at := earliest.Truncate(flush)
	if at.Before(earliest) {
		at = at.Add(flush)
	}
	return at.Sub(now)
}

// eventWriter writes server-sent events, each flushed and bounded in time.
type eventWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (e *eventWriter) raw(s string) error {
	_ = e.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := e.w.Write([]byte(s)); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if err := e.rc.Flush(); err != nil {
		return fmt.Errorf("flush event: %w", err)
	}
	return nil
}

// event writes one named event; each line of data is a data: line.
func (e *eventWriter) event(name, data string) error {
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	return e.raw(b.String())
}

// fragment renders template name of page with data.
func (s *server) fragment(pageName, name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.pages[pageName].ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s fragment %s: %w", pageName, name, err)
	}
	return buf.String(), nil
}
