package manager

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/internal/reconcile"
)

// Relay takes the Flux events of every controller group in the process
// (each group's Runtime sink tees into it) and hands them, through one
// bounded queue, to its target: the notification group's dispatcher when
// it runs here, else a Poster to --events-addr, else nobody (nothing is
// queued then).
type Relay struct {
	mu       sync.RWMutex
	target   reconcile.Submitter
	queue    *reconcile.EventQueue
	instance string
	stop     context.CancelFunc
}

// NewRelay returns a relay without a target, its queue holding size events.
func NewRelay(size int, log logr.Logger) *Relay {
	r := &Relay{}
	r.queue = reconcile.NewEventQueue(r, size, log)
	r.instance, _ = os.Hostname()
	return r
}

// SetTarget sets where the events go from now on; nil stops notifying.
// The notification group sets its dispatcher (wrapped with
// reconcile.RateLimitedAs, so its rate limit is not counted as a loss).
func (r *Relay) SetTarget(s reconcile.Submitter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = s
}

func (r *Relay) current() reconcile.Submitter {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.target
}

// Submit implements reconcile.Submitter: the queue's worker hands each
// event to the target.
func (r *Relay) Submit(e eventv1.Event) error {
	if t := r.current(); t != nil {
		return t.Submit(e)
	}
	return nil
}

// Queue is the relay's queue, with its counts of what was sent and lost.
func (r *Relay) Queue() *reconcile.EventQueue { return r.queue }

// sink tees next (the Kubernetes recorder of component) into the relay.
func (r *Relay) sink(next reconcile.EventSink, scheme *runtime.Scheme, component string) reconcile.EventSink {
	return relaySink{relay: r, tee: reconcile.TeeSink{Next: next, Queue: r.queue,
		Source: reconcile.EventSource{Scheme: scheme, Component: component, Instance: r.instance}}}
}

// start runs the queue until ctx ends or stop is called.
func (r *Relay) start(ctx context.Context) {
	ctx, stop := context.WithCancel(ctx)
	r.mu.Lock()
	r.stop = stop
	r.mu.Unlock()
	go r.queue.Run(ctx)
}

// shutdown stops the queue; what is still queued is counted and logged.
func (r *Relay) shutdown() {
	r.mu.RLock()
	stop := r.stop
	r.mu.RUnlock()
	if stop != nil {
		stop()
	}
}

// relaySink queues Flux events only while the relay has a target.
type relaySink struct {
	relay *Relay
	tee   reconcile.TeeSink
}

func (s relaySink) Event(obj runtime.Object, annotations map[string]string, eventType, reason, message string) {
	if s.relay.current() == nil {
		s.tee.Next.Event(obj, annotations, eventType, reason, message)
		return
	}
	s.tee.Event(obj, annotations, eventType, reason, message)
}

// relayStarter starts the relay's queue when the manager starts; the
// queue runs on through the grace (passes still record events), and Run
// stops it last.
type relayStarter struct {
	relay *Relay
	grace context.Context
}

func (s relayStarter) Start(ctx context.Context) error {
	s.relay.start(s.grace)
	<-ctx.Done()
	return nil
}

func (relayStarter) NeedLeaderElection() bool { return false }

// startRelay makes the process's relay: with no target when this process
// runs the notification group (its Setup sets the dispatcher), a Poster to
// --events-addr when set, else none.
func startRelay(mgr interface{ Add(manager.Runnable) error }, opts Options, selected []Controller, grace context.Context, log logr.Logger) (*Relay, error) {
	relay := NewRelay(reconcile.DefaultEventQueueSize, log.WithName("notify"))
	runsNotification := slices.ContainsFunc(selected, func(c Controller) bool { return c.Name == "notification" })
	if !runsNotification && opts.EventsAddr != "" {
		poster, err := NewPoster(opts.EventsAddr)
		if err != nil {
			return nil, err
		}
		relay.SetTarget(poster)
	}
	if err := relay.registerMetrics(metricsRegistry()); err != nil {
		return nil, err
	}
	if err := mgr.Add(relayStarter{relay: relay, grace: grace}); err != nil {
		return nil, err
	}
	return relay, nil
}

// registerMetrics exposes the relay's counts: events handed to the target
// (sent), refused as repeats (rate_limited) and lost (dropped: queue full,
// target failed, or still queued at shutdown). A second manager in the
// process (tests) keeps the first one's.
func (r *Relay) registerMetrics(reg prometheus.Registerer) error {
	for result, count := range map[string]func() int64{
		"sent": r.queue.Sent, "rate_limited": r.queue.RateLimited, "dropped": r.queue.Dropped,
	} {
		c := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "driftless_notification_relay_events_total",
			Help:        "Flux events of this process's controllers handed to the notification dispatcher or --events-addr, by result.",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 { return float64(count()) })
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}
