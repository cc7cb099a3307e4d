package manager

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/driftless/driftless/internal/reconcile"
)

// eventDrainBound bounds how long Run waits, once the manager has stopped,
// for the events of the last passes to be written.
const eventDrainBound = 5 * time.Second

// eventSenders are the process's event senders, with what it takes to stop
// them without losing the events of the passes that ran on through the
// grace: client-go's Shutdown drops what is still queued, and a process
// that returns from main loses what is being written.
type eventSenders struct {
	events *reconcile.Events
	// recorded counts the events the controllers recorded (Deps.Runtime's
	// sink), written the events the senders are done with, written or
	// refused (countedWrites).
	recorded, written atomic.Int64
	once              sync.Once
	// relay queues the Flux events; drain stops it after the senders.
	relay *Relay
}

// startEvents starts the event senders, writing with the manager's client
// settings. They stop when grace ends after the manager stops (eventsStopper),
// or when Run drains them once the manager has stopped, whichever is first.
func startEvents(mgr ctrl.Manager, grace context.Context, logger logr.Logger) (*eventSenders, error) {
	kube, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("events client: %w", err)
	}
	s := &eventSenders{}
	s.events = reconcile.NewEvents(countedWrites{next: &typedcorev1.EventSinkImpl{Interface: kube.CoreV1().Events("")}, n: &s.written},
		reconcile.DefaultEventShards, logger.WithName("events"))
	if err := mgr.Add(eventsStopper{senders: s, grace: grace}); err != nil {
		return nil, err
	}
	return s, nil
}

// sink is the EventSink of component, counting what it records.
func (s *eventSenders) sink(scheme *runtime.Scheme, component string) reconcile.EventSink {
	return countedSink{next: s.events.Sink(scheme, component), n: &s.recorded}
}

func (s *eventSenders) shutdown() { s.once.Do(s.events.Shutdown) }

// drain waits until the senders have written as many events as were
// recorded, or bound passes (an event client-go's spam filter dropped is
// never written), then stops them. The manager has stopped: no pass
// records any more.
func (s *eventSenders) drain(bound time.Duration) {
	deadline := time.Now().Add(bound)
	for s.written.Load() < s.recorded.Load() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.shutdown()
	if s.relay != nil {
		// The last passes' Flux events too, within the same bound.
		for s.relay.queue.Pending() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		s.relay.shutdown()
	}
}

// eventsStopper stops the event senders once grace has ended after the
// manager began to stop, leader or not: a pass that runs on through the
// grace (helm) still records its events. It returns at the stop, since the
// manager stops it before the controllers and waits for it.
type eventsStopper struct {
	senders *eventSenders
	grace   context.Context
}

func (s eventsStopper) Start(ctx context.Context) error {
	<-ctx.Done()
	go func() {
		<-s.grace.Done()
		s.senders.shutdown()
	}()
	return nil
}

func (eventsStopper) NeedLeaderElection() bool { return false }

type countedSink struct {
	next reconcile.EventSink
	n    *atomic.Int64
}

func (s countedSink) Event(obj runtime.Object, annotations map[string]string, eventType, reason, message string) {
	s.n.Add(1)
	s.next.Event(obj, annotations, eventType, reason, message)
}

// countedWrites counts the events client-go's senders are done with: one
// per recorded event at most, so that drain never stops them early. A sink
// call is not always the last for its event: a repeated event is patched,
// and created when the patch finds no event (404); a transport error is
// retried 10 s or more later, longer than drain waits anyway.
type countedWrites struct {
	next record.EventSink
	n    *atomic.Int64
}

func (w countedWrites) Create(e *corev1.Event) (*corev1.Event, error) {
	out, err := w.next.Create(e)
	w.count(err, false)
	return out, err
}

func (w countedWrites) Update(e *corev1.Event) (*corev1.Event, error) {
	out, err := w.next.Update(e)
	w.count(err, false)
	return out, err
}

func (w countedWrites) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	out, err := w.next.Patch(e, data)
	w.count(err, true)
	return out, err
}

// count counts the event done unless client-go writes it again: after a
// patch that found no event, or after an error it retries (anything but
// an answer of the API server or a request it cannot build).
func (w countedWrites) count(err error, patch bool) {
	var status *apierrors.StatusError
	var construction *rest.RequestConstructionError
	switch {
	case err == nil:
	case errors.As(err, &status):
		if patch && apierrors.IsNotFound(err) {
			return
		}
	case errors.As(err, &construction):
	default:
		return
	}
	w.n.Add(1)
}
