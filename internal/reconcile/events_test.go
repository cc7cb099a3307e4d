package reconcile

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// gatedSink is an event sink whose Create waits for the gate to open, and
// which records what it was given and how many calls overlapped at most.
type gatedSink struct {
	gate chan struct{}

	mu       sync.Mutex
	inFlight int
	most     int
	created  []*corev1.Event
}

func (s *gatedSink) Create(e *corev1.Event) (*corev1.Event, error) {
	s.mu.Lock()
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	s.mu.Unlock()
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	s.created = append(s.created, e)
	return e, nil
}

func (s *gatedSink) Update(e *corev1.Event) (*corev1.Event, error)          { return e, nil }
func (s *gatedSink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) { return e, nil }

func (s *gatedSink) state() (most int, created []*corev1.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most, slices.Clone(s.created)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testcluster.Eventually(t, 10*time.Second, what, func() (bool, error) { return cond(), nil })
}

func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + "name"}}
}

// The events of different objects are written by several senders at once,
// where one broadcaster writes one at a time.
func TestEventsAreWrittenInParallel(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	events := NewEvents(sink, DefaultEventShards, logr.Discard())
	defer events.Shutdown()
	rec := events.Recorder(clientgoscheme.Scheme, "kustomize-controller")
	for i := range 32 {
		rec.Event(configMap(fmt.Sprintf("cm-%02d", i)), corev1.EventTypeNormal, "Progressing", "applied")
	}
	waitUntil(t, "two events written at once", func() bool { most, _ := sink.state(); return most >= 2 })
	close(sink.gate)
	waitUntil(t, "all 32 events written", func() bool { _, created := sink.state(); return len(created) == 32 })
}

// The events of one object keep their order.
func TestEventsOfOneObjectKeepTheirOrder(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	close(sink.gate)
	events := NewEvents(sink, DefaultEventShards, logr.Discard())
	defer events.Shutdown()
	rec := events.Recorder(clientgoscheme.Scheme, "kustomize-controller")
	var want []string
	for i := range 6 {
		msg := fmt.Sprintf("change %d", i)
		want = append(want, msg)
		rec.AnnotatedEventf(configMap("app"), map[string]string{"revision": "r"}, corev1.EventTypeNormal, "Progressing", "%s", msg)
	}
	waitUntil(t, "six events written", func() bool { _, created := sink.state(); return len(created) == 6 })
	_, created := sink.state()
	var got []string
	for _, e := range created {
		got = append(got, e.Message)
		if e.Source.Component != "kustomize-controller" || e.Annotations["revision"] != "r" || e.InvolvedObject.Name != "app" {
			t.Errorf("event %q: source %q, annotations %v, object %s", e.Message, e.Source.Component, e.Annotations, e.InvolvedObject.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events written in the order %q, want %q", got, want)
	}
}
