package manager

import (
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
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
