package reconcile

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/scheme"
)

// blockedSubmitter takes nothing until release is closed.
type blockedSubmitter struct {
	release chan struct{}
	mu      sync.Mutex
	got     []eventv1.Event
	err     error
}

func (s *blockedSubmitter) Submit(e eventv1.Event) error {
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, e)
	return s.err
}

func (s *blockedSubmitter) events() []eventv1.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]eventv1.Event(nil), s.got...)
}

type recordingSink struct{ n int }

func (r *recordingSink) Event(runtime.Object, map[string]string, string, string, string) { r.n++ }

// A Submitter that takes nothing never blocks a reconciliation: the
// events that do not fit are dropped and counted, the Kubernetes recorder
// still gets every one, and the queued ones arrive in order.
func TestTeeSinkNeverBlocks(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	sub := &blockedSubmitter{release: make(chan struct{})}
	q := NewEventQueue(sub, 3, logr.Discard())
	rec := &recordingSink{}
	sink := TeeSink{Next: rec, Queue: q, Source: EventSource{Scheme: s, Component: "kustomize-controller"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()

	obj := configMap("a")
	// Not started yet or holding one: at most size+1 are taken, the rest dropped.
	for i := range 10 {
		sink.Event(obj, nil, corev1.EventTypeWarning, "Failed", string(rune('a'+i)))
	}
	sink.Event(obj, nil, "Trace", "Ignored", "not notified")
	if rec.n != 11 {
		t.Errorf("the recorder got %d events, want 11", rec.n)
	}
	dropped := q.Dropped()
	if dropped < 6 || dropped > 7 {
		t.Errorf("dropped %d events, want 6 or 7 (queue of 3, one in hand)", dropped)
	}
	close(sub.release)
	waitUntil(t, "the queued events are submitted", func() bool { return int64(len(sub.events())) == 10-dropped })
	got := sub.events()
	for i := 1; i < len(got); i++ {
		if got[i].Message <= got[i-1].Message {
			t.Errorf("events out of order: %q after %q", got[i].Message, got[i-1].Message)
		}
	}
	if q.Sent() != 10-dropped {
		t.Errorf("sent = %d, want %d", q.Sent(), 10-dropped)
	}
	cancel()
	<-done
}

// A Submitter's failure is a drop; its rate limit is not.
func TestEventQueueCountsRefusals(t *testing.T) {
	limited := errors.New("limited")
	release := make(chan struct{})
	close(release)
	sub := &blockedSubmitter{release: release, err: limited}
	q := NewEventQueue(RateLimitedAs(sub, limited), 4, logr.Discard())
	q.submit(eventv1.Event{Message: "x"})
	if q.RateLimited() != 1 || q.Dropped() != 0 {
		t.Errorf("rate limited %d, dropped %d; want 1 and 0", q.RateLimited(), q.Dropped())
	}
	sub.err = errors.New("queue full")
	q.submit(eventv1.Event{Message: "y"})
	if q.Dropped() != 1 {
		t.Errorf("dropped %d, want 1", q.Dropped())
	}
	// What is still queued at shutdown is counted.
	q.Enqueue(eventv1.Event{Message: "z"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.Run(ctx)
	if q.Dropped() != 2 {
		t.Errorf("dropped %d after shutdown, want 2", q.Dropped())
	}
}
