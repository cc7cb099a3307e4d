package reconcile

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Submitter takes a Flux event for notification: the dispatcher of the
// notification controller, or a poster to another process's endpoint.
type Submitter interface {
	Submit(eventv1.Event) error
}

// ErrEventRateLimited, returned by a Submitter, says the event was a
// repeat it chose not to send: not a loss, so not counted as dropped.
var ErrEventRateLimited = errors.New("event rate limited")

// DefaultEventQueueSize is how many Flux events wait for the Submitter
// before new ones are dropped (counted and logged).
const DefaultEventQueueSize = 4096

// EventQueue hands Flux events to a Submitter from one goroutine, so that
// a slow Submitter never blocks the reconciliation that recorded them.
// What does not fit is dropped, counted and logged; one object's events
// keep their order.
type EventQueue struct {
	target  Submitter
	log     logr.Logger
	ch      chan eventv1.Event
	dropped atomic.Int64
	sent    atomic.Int64
	limited atomic.Int64
}

// NewEventQueue returns a queue of size events for target; Run sends them.
func NewEventQueue(target Submitter, size int, log logr.Logger) *EventQueue {
	return &EventQueue{target: target, log: log, ch: make(chan eventv1.Event, max(size, 1))}
}

// Enqueue adds the event without ever waiting: when the queue is full the
// event is dropped, counted and logged.
func (q *EventQueue) Enqueue(e eventv1.Event) {
	select {
	case q.ch <- e:
	default:
		q.drop(e, errors.New("the notification queue is full"))
	}
}

// Run submits the queued events until ctx ends; the events still queued
// then are counted as dropped and logged once.
func (q *EventQueue) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			q.discard()
			return
		case e := <-q.ch:
			q.submit(e)
		}
	}
}

func (q *EventQueue) submit(e eventv1.Event) {
	err := q.target.Submit(e)
	switch {
	case err == nil:
		q.sent.Add(1)
	case errors.Is(err, ErrEventRateLimited):
		q.limited.Add(1)
	default:
		q.drop(e, err)
	}
}

func (q *EventQueue) discard() {
	n := 0
	for {
		select {
		case <-q.ch:
			n++
			q.dropped.Add(1)
		default:
			if n > 0 {
				q.log.Error(errors.New("stopped"), "Flux events not notified at shutdown", "events", n, "dropped", q.dropped.Load())
			}
			return
		}
	}
}

func (q *EventQueue) drop(e eventv1.Event, err error) {
	total := q.dropped.Add(1)
	ref := e.InvolvedObject
	q.log.Error(err, "Flux event not notified", "kind", ref.Kind, "name", ref.Name, "namespace", ref.Namespace,
		"reason", e.Reason, "dropped", total)
}

// Dropped counts the events lost: the queue was full, the Submitter
// refused or failed, or the process stopped first.
func (q *EventQueue) Dropped() int64 { return q.dropped.Load() }

// Pending is how many events wait in the queue.
func (q *EventQueue) Pending() int { return len(q.ch) }

// Sent counts the events the Submitter took.
func (q *EventQueue) Sent() int64 { return q.sent.Load() }

// RateLimited counts the events the Submitter chose not to send again.
func (q *EventQueue) RateLimited() int64 { return q.limited.Load() }

// TeeSink records each event with Next (the Kubernetes recorder) and
// also queues it, as a Flux event, for notification: taken here, before
// client-go's spam filter and aggregation, which must not decide what is
// notified.
type TeeSink struct {
	Next   EventSink
	Queue  *EventQueue
	Source EventSource
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Event implements EventSink.
func (s TeeSink) Event(obj runtime.Object, annotations map[string]string, eventType, reason, message string) {
	if s.Next != nil {
		s.Next.Event(obj, annotations, eventType, reason, message)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if e, ok := s.Source.FluxEvent(obj, annotations, eventType, reason, message, now()); ok {
		s.Queue.Enqueue(e)
	}
}

// RateLimitedAs adapts a Submitter whose refusal of a repeat is its own
// error (dispatch.ErrRateLimited) to ErrEventRateLimited, so the queue
// does not count those events as lost.
func RateLimitedAs(target Submitter, limited error) Submitter {
	return rateLimitedAs{target: target, limited: limited}
}

type rateLimitedAs struct {
	target  Submitter
	limited error
}

func (r rateLimitedAs) Submit(e eventv1.Event) error {
	err := r.target.Submit(e)
	if err != nil && errors.Is(err, r.limited) {
		return errors.Join(ErrEventRateLimited, err)
	}
	return err
}
