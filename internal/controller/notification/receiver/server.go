package receiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/engine/webhook"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Server bounds beyond the body limit.
const (
	readHeaderTimeout = 10 * time.Second
	requestTimeout    = 30 * time.Second
	// refusalLogEvery is how often a refused request is logged at most.
	refusalLogEvery = 10 * time.Second
)

// server is the webhook receiver: an http.Server run by the manager on
// every replica.
type server struct {
	addr      string
	opts      Options
	client    client.Client
	reader    client.Reader
	cache     interface{ WaitForCacheSync(context.Context) bool }
	informers func(context.Context) error
	log       logr.Logger
	metrics   *metrics
	limiter   *rateLimiter
	coalescer *coalescer
	// keys fetches and caches the keys of ID tokens (gcr, generic-oidc).
	keys  *webhook.Keys
	ready atomic.Bool

	logMu      sync.Mutex
	lastLogged time.Time
	suppressed int
}

func newServer(mgr ctrl.Manager, deps manager.Deps, o Options, l limits) (*server, error) {
	m, err := newMetrics()
	if err != nil {
		return nil, fmt.Errorf("webhook receiver metrics: %w", err)
	}
	return &server{
		addr:   o.Addr,
		opts:   o,
		client: mgr.GetClient(),
		reader: mgr.GetAPIReader(),
		cache:  mgr.GetCache(),
		informers: func(ctx context.Context) error {
			_, err := mgr.GetCache().GetInformer(ctx, &notificationv1.Receiver{})
			return err
		},
		log:       deps.Logger.WithName("webhook-receiver"),
		metrics:   m,
		limiter:   newRateLimiter(l.perSecond, l.burst),
		coalescer: newCoalescer(l.coalesce),
		keys:      &webhook.Keys{GoogleURL: l.googleKeys},
	}, nil
}

// NeedLeaderElection is false: every replica answers webhooks.
func (s *server) NeedLeaderElection() bool { return false }

// readyCheck is the manager's readiness check: ready once the Receivers
// are in the cache and the server listens.
func (s *server) readyCheck(*http.Request) error {
	if !s.ready.Load() {
		return errors.New("webhook receiver not started: the Receiver cache is not synced yet")
	}
	return nil
}

// Start serves until ctx ends; it listens once the Receiver cache is synced.
func (s *server) Start(ctx context.Context) error {
	if err := s.informers(ctx); err != nil {
		return fmt.Errorf("webhook receiver: watch Receivers: %w", err)
	}
	if !s.cache.WaitForCacheSync(ctx) {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("webhook receiver: listen on --receiver-addr %s: %w", s.addr, err)
	}
	srv := &http.Server{
		Handler:           http.TimeoutHandler(http.HandlerFunc(s.serveHTTP), requestTimeout, "request timed out\n"),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      requestTimeout + 5*time.Second,
		MaxHeaderBytes:    256 << 10,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	s.ready.Store(true)
	s.log.Info("webhook receiver listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	return nil
}

// answer writes code and reason, records the metric, and logs a refusal,
// at most once per refusalLogEvery.
func (s *server) answer(w http.ResponseWriter, r *http.Request, start time.Time, code int, reason string, kv ...any) {
	s.metrics.observe(r.Method, code, time.Since(start).Seconds())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(reason + "\n"))
	if code < 400 {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if time.Since(s.lastLogged) < refusalLogEvery {
		s.suppressed++
		return
	}
	s.log.Info("webhook request refused", append(kv, "code", code, "reason", reason, "refusedSinceLastLog", s.suppressed)...)
	s.lastLogged, s.suppressed = time.Now(), 0
}

// serveHTTP follows Flux's receiver flow: body limit, Receiver by path,
// rate limit, Ready and not suspended, check, then each resource.
func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		s.answer(w, r, start, http.StatusMethodNotAllowed, "only POST is accepted")
		return
	}
	if !strings.HasPrefix(r.URL.Path, notificationv1.ReceiverWebhookPathPrefix) {
		s.answer(w, r, start, http.StatusNotFound, "not found")
		return
	}
	body, err := webhook.ReadBody(r.Body)
	if err != nil {
		s.answer(w, r, start, webhook.StatusOf(err), err.Error())
		return
	}
	ctx := r.Context()
	var list notificationv1.ReceiverList
	if err := s.client.List(ctx, &list, client.MatchingFields{pathIndex: r.URL.Path}); err != nil {
		s.answer(w, r, start, http.StatusInternalServerError, "cannot look up the receiver")
		s.log.Error(err, "list Receivers by webhook path")
		return
	}
	if len(list.Items) == 0 {
		s.answer(w, r, start, http.StatusNotFound, "no receiver at this path")
		return
	}
	obj := &list.Items[0]
	id := []any{"receiver", obj.Namespace + "/" + obj.Name}
	if ok, wait := s.limiter.allow(string(obj.UID), time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.answer(w, r, start, http.StatusTooManyRequests, "too many requests for this receiver", id...)
		return
	}
	if obj.Spec.Suspend || !reconcile.IsTrue(obj, meta.ReadyCondition) {
		s.answer(w, r, start, http.StatusServiceUnavailable, "receiver is suspended or not ready", id...)
		return
	}
	sec, err := readSecret(ctx, s.reader, obj)
	if err != nil {
		s.answer(w, r, start, http.StatusServiceUnavailable, "receiver has no token", id...)
		return
	}
	providers, err := compileProviders(obj)
	if err != nil {
		s.answer(w, r, start, http.StatusServiceUnavailable, "receiver is not ready", id...)
		return
	}
	result, err := webhook.Check(ctx, webhook.Config{Type: obj.Spec.Type, Events: obj.Spec.Events, Token: sec.token,
		GCR: sec.gcr, OIDC: providers, Keys: s.keys}, webhook.Request{Header: r.Header, Body: body})
	if err != nil {
		var we *webhook.Error
		if errors.As(err, &we) && we.Detail != "" {
			id = append(id, "detail", we.Detail)
		}
		s.answer(w, r, start, webhook.StatusOf(err), err.Error(), id...)
		return
	}
	if result.Skip {
		s.answer(w, r, start, http.StatusOK, "accepted; nothing to reconcile", id...)
		return
	}
	if failed := s.requestReconcile(ctx, obj, result); failed > 0 {
		s.answer(w, r, start, http.StatusInternalServerError, fmt.Sprintf("%d object(s) could not be annotated", failed), id...)
		return
	}
	s.answer(w, r, start, http.StatusOK, "accepted", id...)
}
