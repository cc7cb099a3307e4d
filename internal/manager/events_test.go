package manager

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/driftless/driftless/internal/reconcile"
)

// slowSink is an API server that takes its time to store events.
type slowSink struct {
	mu      sync.Mutex
	reasons []string
	gate    chan struct{}
}

func (s *slowSink) store(e *corev1.Event) (*corev1.Event, error) {
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reasons = append(s.reasons, e.Reason)
	return e, nil
}

func (s *slowSink) Create(e *corev1.Event) (*corev1.Event, error) { return s.store(e) }
func (s *slowSink) Update(e *corev1.Event) (*corev1.Event, error) { return s.store(e) }
func (s *slowSink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) {
	return s.store(e)
}

// The events a pass recorded just before the manager stopped are written
// before the senders stop: drain waits for them (client-go's Shutdown alone
// drops what is queued or being written).
func TestDrainWritesTheLastEvents(t *testing.T) {
	sink := &slowSink{gate: make(chan struct{})}
	s := &eventSenders{}
	s.events = reconcile.NewEvents(countedWrites{next: sink, n: &s.written}, 2, logr.Discard())
	rec := s.sink(clientgoscheme.Scheme, "helm-controller")
	for i, reason := range []string{"UpgradeSucceeded", "TestSucceeded", "Other"} {
		obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: []string{"a", "b", "c"}[i], UID: "u"}}
		rec.Event(obj, nil, corev1.EventTypeNormal, reason, "done")
	}
	drained := make(chan struct{})
	go func() { s.drain(time.Minute); close(drained) }()
	close(sink.gate)
	<-drained
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.reasons) != 3 {
		t.Errorf("%d of 3 events written before the senders stopped: %v", len(sink.reasons), sink.reasons)
	}
}

// An event that is never written (client-go's spam filter) holds the end of
// the process no longer than the bound.
func TestDrainIsBounded(t *testing.T) {
	s := &eventSenders{}
	s.events = reconcile.NewEvents(countedWrites{next: &slowSink{gate: make(chan struct{})}, n: &s.written}, 1, logr.Discard())
	s.recorded.Add(1) // recorded, then dropped: never written
	s.drain(10 * time.Millisecond)
	if s.written.Load() != 0 {
		t.Errorf("%d events written, none was sent", s.written.Load())
	}
}

// patchMissSink answers a patch with 404, as the API server does when the
// event it patches has not been created yet, and stores the create that
// follows only once the test lets it.
type patchMissSink struct {
	mu      sync.Mutex
	created []int32
	again   chan struct{}
}

func (s *patchMissSink) Create(e *corev1.Event) (*corev1.Event, error) {
	if e.Count > 1 {
		<-s.again
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, e.Count)
	return e, nil
}

func (s *patchMissSink) Update(e *corev1.Event) (*corev1.Event, error) { return e, nil }

func (s *patchMissSink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) {
	time.AfterFunc(200*time.Millisecond, func() { close(s.again) })
	return nil, apierrors.NewNotFound(corev1.Resource("events"), e.Name)
}

// A repeated event is patched, and created when the patch finds nothing:
// two calls for one event. drain waits for the create; counting calls, it
// stopped the senders after the patch and lost the event.
func TestDrainCountsEventsNotCalls(t *testing.T) {
	sink := &patchMissSink{again: make(chan struct{})}
	s := &eventSenders{}
	s.events = reconcile.NewEvents(countedWrites{next: sink, n: &s.written}, 1, logr.Discard())
	rec := s.sink(clientgoscheme.Scheme, "helm-controller")
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", UID: "u"}}
	rec.Event(obj, nil, corev1.EventTypeNormal, "UpgradeSucceeded", "done")
	rec.Event(obj, nil, corev1.EventTypeNormal, "UpgradeSucceeded", "done")
	s.drain(time.Minute)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.created) != 2 || sink.created[1] != 2 {
		t.Errorf("created before the senders stopped: counts %v, want [1 2]", sink.created)
	}
	if got := s.written.Load(); got != 2 {
		t.Errorf("%d events counted written, want 2", got)
	}
}

// Errors the API server answers end an event; a patch that finds nothing
// and a transport error (retried later) do not.
func TestCountedWritesCountsFinalOutcomes(t *testing.T) {
	notFound := apierrors.NewNotFound(corev1.Resource("events"), "e")
	for _, c := range []struct {
		name  string
		err   error
		patch bool
		want  int64
	}{
		{"written", nil, false, 1},
		{"patched", nil, true, 1},
		{"refused", apierrors.NewForbidden(corev1.Resource("events"), "e", errors.New("terminating")), false, 1},
		{"create not found", notFound, false, 1},
		{"patch not found", notFound, true, 0},
		{"connection refused", errors.New("dial tcp: connection refused"), false, 0},
	} {
		var n atomic.Int64
		countedWrites{n: &n}.count(c.err, c.patch)
		if n.Load() != c.want {
			t.Errorf("%s: counted %d, want %d", c.name, n.Load(), c.want)
		}
	}
}
