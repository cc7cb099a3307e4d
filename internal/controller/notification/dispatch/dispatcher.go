package dispatch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
	"github.com/driftless/driftless/internal/reconcile"
)

// The path of an event: Submit (limiter, then a bounded queue per match
// worker, chosen by object) → a match worker (Alerts from the cache by
// the AlertSourceKindField index, eventSources, severity, patterns,
// Provider, metadata, route) → a lane of the Provider (a bounded FIFO per
// Provider and object hash, one goroutine while it has work) → the
// notifier, retried within bounds → sent, or failed with an Alert event,
// an error log and a count. Every drop on the way is counted by reason.
//
// The integrator calls IndexFields on the manager's field indexer, makes
// the cache hold the metadata (metav1.PartialObjectMetadata) of the Flux
// kinds Alerts select by matchLabels, and adds the Dispatcher to the
// manager.

// Config configures a Dispatcher. Reader, Notifier and Events are
// required; the zero value of every other field is its default.
type Config struct {
	// Reader is the manager's cache: Alerts (indexed by IndexFields),
	// Providers, and object labels (metav1.PartialObjectMetadata). The
	// dispatcher never lists the API server.
	Reader client.Reader
	// Notifier builds the notifier of an Alert's Provider (Secrets read,
	// commitStatusExpr compiled). Its errors are the Alert's configuration
	// errors, reported once per generation.
	Notifier func(ctx context.Context, alert *v1beta3.Alert, provider *v1beta3.Provider) (notifier.Notifier, error)
	// Events records Kubernetes events on Alerts.
	Events reconcile.EventSink
	// RateLimitInterval is --rate-limit-interval: one event per key per
	// interval (default 5m; negative disables the limiter).
	RateLimitInterval time.Duration
	// NoCrossNamespaceRefs is --no-cross-namespace-refs: an Alert selects
	// only objects of its own namespace.
	NoCrossNamespaceRefs bool
	// Registerer registers the metrics (default a private registry).
	Registerer prometheus.Registerer
	// Logger logs what goes wrong (default discards).
	Logger logr.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time

	// QueueSize bounds the events waiting to be matched (default 1000).
	QueueSize int
	// Workers match events against Alerts (default 4); an object's events
	// always go to the same worker, so they stay in order.
	Workers int
	// ProviderQueueSize bounds the events waiting for one Provider
	// (default 500).
	ProviderQueueSize int
	// ProviderWorkers deliver to one Provider (default 2); an object's
	// events always go to the same worker, so they stay in order.
	ProviderWorkers int
	// MaxAttempts bounds the tries of one delivery (default 5).
	MaxAttempts int
	// MaxRetryDuration bounds the time a delivery spends retrying: a
	// back-off or Retry-After that would pass it fails the delivery
	// (default 2m).
	MaxRetryDuration time.Duration
	// BackoffMin is the first back-off (default 2s); it doubles up to
	// BackoffMax (default 30s). A Retry-After above it wins.
	BackoffMin, BackoffMax time.Duration
	// DrainTimeout bounds the delivery of what is queued once Start's
	// context ends (default 30s); what is left is counted and logged.
	DrainTimeout time.Duration
}

func (c *Config) defaults() error {
	if c.Reader == nil || c.Notifier == nil || c.Events == nil {
		return errors.New("dispatch config: Reader, Notifier and Events are required")
	}
	if c.RateLimitInterval == 0 {
		c.RateLimitInterval = 5 * time.Minute
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.QueueSize, 1000)
	setDefault(&c.Workers, 4)
	setDefault(&c.ProviderQueueSize, 500)
	setDefault(&c.ProviderWorkers, 2)
	setDefault(&c.MaxAttempts, 5)
	setDefault(&c.MaxRetryDuration, 2*time.Minute)
	setDefault(&c.BackoffMin, 2*time.Second)
	setDefault(&c.BackoffMax, 30*time.Second)
	setDefault(&c.DrainTimeout, 30*time.Second)
	return nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Dispatcher takes events through the limiter and the Alerts to the
// Providers' delivery queues.
type Dispatcher struct {
	cfg      Config
	log      logr.Logger
	limiter  *limiter
	compiler *compiler
	metrics  *metrics
	once     *onceEvents

	// mu guards closed and the shards' channels against a send after
	// close.
	mu      sync.RWMutex
	closed  bool
	started bool
	shards  []chan queued

	// runCtx ends when the drain bound passes: deliveries and back-offs
	// stop, and what is left is counted.
	runCtx    context.Context
	cancelRun context.CancelFunc

	lanesMu sync.Mutex
	lanes   map[string]*lane
	lanesWG sync.WaitGroup
}

// queued is an event waiting to be matched.
type queued struct {
	event    eventv1.Event
	received time.Time
}

// New returns a Dispatcher; Start runs it.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register the notification dispatcher's metrics: %w", err)
	}
	d := &Dispatcher{
		cfg:      cfg,
		log:      cfg.Logger.WithName("notification-dispatch"),
		limiter:  newLimiter(cfg.RateLimitInterval, cfg.Now),
		compiler: newCompiler(),
		metrics:  m,
		once:     newOnceEvents(),
		lanes:    map[string]*lane{},
	}
	d.runCtx, d.cancelRun = context.WithCancel(context.Background())
	perShard := cfg.QueueSize / cfg.Workers
	if perShard < 1 {
		perShard = 1
	}
	for range cfg.Workers {
		d.shards = append(d.shards, make(chan queued, perShard))
	}
	return d, nil
}

// NeedLeaderElection is false: every replica dispatches the events of its
// own controllers and of its ingestion endpoint.
func (d *Dispatcher) NeedLeaderElection() bool { return false }

// Submit applies the rate limiter and queues the event for matching. It
// never blocks: ErrRateLimited for a duplicate within the interval,
// ErrQueueFull when the queue has no room or the dispatcher is stopping
// (both counted; a full queue logged). Any other error is an invalid
// event (no involvedObject kind, name or namespace, an unknown severity),
// the ingestion endpoint's 400. Trace events are never notified; they are
// counted and accepted. A message longer than eventv1.MaxMessageLength is
// cut to it.
func (d *Dispatcher) Submit(e eventv1.Event) error {
	obj := e.InvolvedObject
	if obj.Kind == "" || obj.Name == "" || obj.Namespace == "" {
		d.metrics.event(resultDropped, dropInvalidEvent)
		return fmt.Errorf("event has no involvedObject kind, name or namespace (kind %q, name %q, namespace %q)", obj.Kind, obj.Name, obj.Namespace)
	}
	if e.Severity == eventv1.EventSeverityTrace {
		d.metrics.event(resultDropped, dropTrace)
		return nil
	}
	if e.Severity != eventv1.EventSeverityInfo && e.Severity != eventv1.EventSeverityError {
		d.metrics.event(resultDropped, dropInvalidEvent)
		return fmt.Errorf("event of %s %s/%s has severity %q: want info, error or trace", obj.Kind, obj.Namespace, obj.Name, e.Severity)
	}
	e.Message = truncate(e.Message, eventv1.MaxMessageLength)
	key := limitKey(&e)
	if !d.limiter.allow(key) {
		d.metrics.event(resultDropped, dropRateLimited)
		return ErrRateLimited
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.limiter.forget(key)
		d.metrics.event(resultDropped, dropShutdown)
		d.log.Error(ErrQueueFull, "event not dispatched: the dispatcher is stopping", "kind", obj.Kind, "namespace", obj.Namespace, "name", obj.Name, "reason", e.Reason)
		return fmt.Errorf("%w: the dispatcher is stopping", ErrQueueFull)
	}
	ingress := d.metrics.queue.WithLabelValues(queueIngress)
	ingress.Inc() // before the send, so a worker's Dec never comes first
	select {
	case d.shards[shardOf(objectKey(&e), len(d.shards))] <- queued{event: e, received: d.cfg.Now()}:
		d.metrics.event("queued", "")
		return nil
	default:
		ingress.Dec()
		d.limiter.forget(key)
		d.metrics.event(resultDropped, dropQueueFull)
		d.log.Error(ErrQueueFull, "event not dispatched", "kind", obj.Kind, "namespace", obj.Namespace, "name", obj.Name, "reason", e.Reason, "queueSize", d.cfg.QueueSize)
		return ErrQueueFull
	}
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// objectKey names the event's object; its events share a worker.
func objectKey(e *eventv1.Event) string {
	o := e.InvolvedObject
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

func shardOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// Start runs the workers until ctx ends, then refuses new events, delivers
// what is queued within DrainTimeout, and counts and logs what is left.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return errors.New("notification dispatcher already started")
	}
	d.started = true
	d.mu.Unlock()

	var workers sync.WaitGroup
	for _, shard := range d.shards {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for q := range shard {
				d.metrics.queue.WithLabelValues(queueIngress).Dec()
				if d.runCtx.Err() != nil {
					d.dropLeft(q.event)
					continue
				}
				d.match(q)
			}
		}()
	}
	<-ctx.Done()

	d.mu.Lock()
	d.closed = true
	for _, shard := range d.shards {
		close(shard)
	}
	d.mu.Unlock()

	deadline := time.NewTimer(d.cfg.DrainTimeout)
	defer deadline.Stop()
	drained := make(chan struct{})
	go func() {
		workers.Wait() // no lane starts after this
		d.lanesWG.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		d.cancelRun()
		return nil
	case <-deadline.C:
	}
	d.cancelRun()
	// Deliveries and back-offs see runCtx end and count what they drop;
	// a notifier that ignores its context is not waited for long.
	grace := time.NewTimer(5 * time.Second)
	defer grace.Stop()
	select {
	case <-drained:
	case <-grace.C:
		d.log.Error(errors.New("deliveries still running"), "notification dispatcher stopped before every delivery returned")
	}
	return nil
}

// dropLeft counts and logs an event not matched before the drain bound.
func (d *Dispatcher) dropLeft(e eventv1.Event) {
	d.metrics.event(resultDropped, dropShutdown)
	d.log.Error(errors.New("dispatcher stopped"), "event not dispatched before shutdown",
		"kind", e.InvolvedObject.Kind, "namespace", e.InvolvedObject.Namespace, "name", e.InvolvedObject.Name, "reason", e.Reason)
}
