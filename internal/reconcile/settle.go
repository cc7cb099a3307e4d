package reconcile

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Settle is how a Watch waits for related changes to arrive together
// before it queues the objects they concern: each change pushes the
// request back to Quiet after itself, but never past Max after the first
// change. An ImageUpdateAutomation so makes one commit of a hundred
// ImagePolicies picking new tags over a few seconds, instead of one
// commit per pick that happened to land between two runs.
type Settle struct {
	Quiet, Max time.Duration
}

// settling is an event handler that maps each event to requests, as
// handler.EnqueueRequestsFromMapFunc does, and queues them once their
// changes have settled.
type settling struct {
	mapFn  handler.MapFunc
	settle Settle
	now    func() time.Time
	after  func(time.Duration, func()) stopper

	mu      sync.Mutex
	pending map[ctrlreconcile.Request]*settlingRequest
}

type stopper interface{ Stop() bool }

type settlingRequest struct {
	first time.Time
	timer stopper
	armed int // which arming the live timer belongs to
}

func newSettling(mapFn handler.MapFunc, s Settle) *settling {
	return &settling{
		mapFn: mapFn, settle: s, now: time.Now,
		after:   func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) },
		pending: map[ctrlreconcile.Request]*settlingRequest{},
	}
}

type queue = workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]

func (s *settling) Create(ctx context.Context, e event.CreateEvent, q queue) {
	s.changed(ctx, e.Object, q)
}

func (s *settling) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	s.changed(ctx, e.ObjectOld, q)
	s.changed(ctx, e.ObjectNew, q)
}

func (s *settling) Delete(ctx context.Context, e event.DeleteEvent, q queue) {
	s.changed(ctx, e.Object, q)
}

func (s *settling) Generic(ctx context.Context, e event.GenericEvent, q queue) {
	s.changed(ctx, e.Object, q)
}

func (s *settling) changed(ctx context.Context, obj client.Object, q queue) {
	if obj == nil {
		return
	}
	for _, req := range s.mapFn(ctx, obj) {
		s.hold(req, q)
	}
}

// hold (re)arms req's timer: Quiet from now, cut to Max from its first
// change.
func (s *settling) hold(req ctrlreconcile.Request, q queue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	p := s.pending[req]
	if p == nil {
		p = &settlingRequest{first: now}
		s.pending[req] = p
	} else {
		p.timer.Stop()
	}
	p.armed++
	armed := p.armed
	wait := min(s.settle.Quiet, p.first.Add(s.settle.Max).Sub(now))
	p.timer = s.after(max(wait, 0), func() { s.release(req, p, armed, q) })
}

// release queues req, unless a later change re-armed it meanwhile (a
// timer that fired while hold was stopping it).
func (s *settling) release(req ctrlreconcile.Request, p *settlingRequest, armed int, q queue) {
	s.mu.Lock()
	if s.pending[req] != p || p.armed != armed {
		s.mu.Unlock()
		return
	}
	delete(s.pending, req)
	s.mu.Unlock()
	q.Add(req)
}
