package reconcile

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	corev1 "k8s.io/api/core/v1"
)

// fakeTimer is a timer the test fires by hand.
type fakeTimer struct {
	at      time.Time
	fn      func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

type settleClock struct {
	now    time.Time
	timers []*fakeTimer
}

func (c *settleClock) after(d time.Duration, f func()) stopper {
	t := &fakeTimer{at: c.now.Add(d), fn: f}
	c.timers = append(c.timers, t)
	return t
}

// advance moves the clock to at, firing the live timers due by then, as
// time.AfterFunc would.
func (c *settleClock) advance(at time.Time) {
	c.now = at
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(at) {
			t.stopped = true
			t.fn()
		}
	}
}

func newSettleTest(s Settle) (*settling, *settleClock, workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &settleClock{now: start}
	target := ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "automation"}}
	h := newSettling(func(context.Context, client.Object) []ctrlreconcile.Request { return []ctrlreconcile.Request{target} }, s)
	h.now = func() time.Time { return c.now }
	h.after = c.after
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[ctrlreconcile.Request]())
	return h, c, q
}

func policyEvent() event.UpdateEvent {
	p := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "policy"}}
	return event.UpdateEvent{ObjectOld: p, ObjectNew: p}
}

// Changes arriving closer together than Quiet are queued once, Quiet
// after the last of them.
func TestSettleQueuesOnceWhenChangesStop(t *testing.T) {
	h, c, q := newSettleTest(Settle{Quiet: 500 * time.Millisecond, Max: 5 * time.Second})
	defer q.ShutDown()
	start := c.now
	for _, at := range []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond} {
		c.advance(start.Add(at))
		h.Update(context.Background(), policyEvent(), q)
		if q.Len() != 0 {
			t.Fatalf("queued at +%s, while changes still arrive", at)
		}
	}
	c.advance(start.Add(1099 * time.Millisecond))
	if q.Len() != 0 {
		t.Fatalf("queued before Quiet had passed since the last change")
	}
	c.advance(start.Add(1100 * time.Millisecond))
	if q.Len() != 1 {
		t.Fatalf("queue holds %d requests after the changes settled, want 1", q.Len())
	}
}

// Changes that never stop still get the request queued Max after the
// first of them.
func TestSettleNeverWaitsPastMax(t *testing.T) {
	h, c, q := newSettleTest(Settle{Quiet: 500 * time.Millisecond, Max: 2 * time.Second})
	defer q.ShutDown()
	start := c.now
	queuedAt := time.Duration(-1)
	for at := time.Duration(0); at <= 3*time.Second; at += 100 * time.Millisecond {
		c.advance(start.Add(at))
		if q.Len() > 0 && queuedAt < 0 {
			queuedAt = at
		}
		h.Update(context.Background(), policyEvent(), q)
	}
	if queuedAt != 2*time.Second {
		t.Fatalf("queued at +%s under constant change, want +2s (Max)", queuedAt)
	}
}

// A timer that fired while a new change was re-arming it does not queue:
// the re-armed one does, once.
func TestSettleStaleTimerDoesNotQueue(t *testing.T) {
	h, c, q := newSettleTest(Settle{Quiet: time.Second, Max: 10 * time.Second})
	defer q.ShutDown()
	h.Update(context.Background(), policyEvent(), q)
	stale := c.timers[len(c.timers)-1]
	h.Update(context.Background(), policyEvent(), q)
	stale.fn() // it had already fired when Stop was called
	if q.Len() != 0 {
		t.Fatal("a stale timer queued the request")
	}
	c.advance(c.now.Add(time.Second))
	if q.Len() != 1 {
		t.Fatalf("queue holds %d after the live timer, want 1", q.Len())
	}
}
