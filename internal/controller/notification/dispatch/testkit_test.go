package dispatch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
)

// waitBound bounds every wait of these tests for something that must
// happen; it is never reached when the code works.
const waitBound = 20 * time.Second

const ksGroup = "kustomize.toolkit.fluxcd.io"

func testScheme(t testing.TB) *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, v1beta3.AddToScheme, kustomizev1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// newReader is a fake cache holding objs, with the dispatcher's index.
func newReader(t testing.TB, objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithIndex(&v1beta3.Alert{}, AlertSourceKindField, alertSourceKinds).
		WithObjects(objs...).Build()
}

func alertObj(name, provider string, sources ...notificationv1.CrossNamespaceObjectReference) *v1beta3.Alert {
	return &v1beta3.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec:       v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: provider}, EventSources: sources},
	}
}

func source(kind, name string) notificationv1.CrossNamespaceObjectReference {
	return notificationv1.CrossNamespaceObjectReference{Kind: kind, Name: name}
}

func providerObj(name, typ string) *v1beta3.Provider {
	return &v1beta3.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec:       v1beta3.ProviderSpec{Type: typ},
	}
}

func kustomization(ns, name string, labels map[string]string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
}

// ksEvent is an event of Kustomization ns/name.
func ksEvent(ns, name, severity, message string) eventv1.Event {
	return eventv1.Event{
		InvolvedObject:      corev1.ObjectReference{APIVersion: ksGroup + "/v1", Kind: "Kustomization", Namespace: ns, Name: name, UID: types.UID("uid-ks-" + name)},
		Severity:            severity,
		Timestamp:           metav1.NewTime(time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)),
		Message:             message,
		Reason:              "ReconciliationFailed",
		Metadata:            map[string]string{ksGroup + "/revision": "main@sha1:0123"},
		ReportingController: "kustomize-controller",
	}
}

// recordedEvent is a Kubernetes event recorded on an Alert.
type recordedEvent struct {
	object, eventType, reason, message string
}

// sink records the events the dispatcher records.
type sink struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (s *sink) Event(obj runtime.Object, _ map[string]string, eventType, reason, message string) {
	o := obj.(client.Object)
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, recordedEvent{object: kind + "/" + o.GetNamespace() + "/" + o.GetName(), eventType: eventType, reason: reason, message: message})
}

// withReason returns the recorded events of the reason.
// withReason are the events of reason recorded on Alerts.
func (s *sink) withReason(reason string) []recordedEvent { return s.on("Alert", reason) }

// on are the events of reason recorded on objects of kind.
func (s *sink) on(kind, reason string) []recordedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []recordedEvent
	for _, e := range s.events {
		if e.reason == reason && strings.HasPrefix(e.object, kind+"/") {
			out = append(out, e)
		}
	}
	return out
}

// logs collects the log lines of a funcr logger.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{})
}

// find returns the lines holding every part.
func (l *logs) find(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, line := range l.lines {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// fakeNotifier answers each Post with answer(n) (n counting from 1) and
// reports the posted events on posted.
type fakeNotifier struct {
	mu     sync.Mutex
	calls  int
	events []eventv1.Event
	answer func(ctx context.Context, n int) error
	posted chan eventv1.Event
}

func newFakeNotifier(answer func(ctx context.Context, n int) error) *fakeNotifier {
	if answer == nil {
		answer = func(context.Context, int) error { return nil }
	}
	return &fakeNotifier{answer: answer, posted: make(chan eventv1.Event, 1000)}
}

func (f *fakeNotifier) Post(ctx context.Context, e eventv1.Event) error {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	err := f.answer(ctx, n)
	if err == nil {
		f.mu.Lock()
		f.events = append(f.events, e)
		f.mu.Unlock()
	}
	f.posted <- e
	return err
}

func (f *fakeNotifier) count() (calls int, sent []eventv1.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, append([]eventv1.Event(nil), f.events...)
}

// waitPosts waits for n calls of Post.
func (f *fakeNotifier) waitPosts(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(waitBound)
	for i := 0; i < n; i++ {
		select {
		case <-f.posted:
		case <-timeout:
			t.Fatalf("got %d of %d posts", i, n)
		}
	}
}

// harness is a dispatcher with fakes around it.
type harness struct {
	d         *Dispatcher
	reader    client.Client
	sink      *sink
	logs      *logs
	notifiers map[string]*fakeNotifier // by Provider name
	cancel    func()                   // ends Start's context
	stop      func()                   // ends Start's context and waits for Start
}

// newHarness builds a dispatcher on objs; notifiers answer for the
// Providers by name (a missing one answers OK). configure may change the
// config before New.
func newHarness(t *testing.T, objs []client.Object, notifiers map[string]*fakeNotifier, configure func(*Config)) *harness {
	t.Helper()
	h := &harness{reader: newReader(t, objs...), sink: &sink{}, logs: &logs{}, notifiers: notifiers}
	if h.notifiers == nil {
		h.notifiers = map[string]*fakeNotifier{}
	}
	var mu sync.Mutex
	cfg := Config{
		Reader: h.reader,
		Notifier: func(_ context.Context, _ *v1beta3.Alert, p *v1beta3.Provider) (notifier.Notifier, error) {
			mu.Lock()
			defer mu.Unlock()
			n, ok := h.notifiers[p.Name]
			if !ok {
				n = newFakeNotifier(nil)
				h.notifiers[p.Name] = n
			}
			return n, nil
		},
		Events:       h.sink,
		Registerer:   prometheus.NewRegistry(),
		Logger:       h.logs.logger(),
		BackoffMin:   time.Millisecond,
		BackoffMax:   4 * time.Millisecond,
		DrainTimeout: waitBound,
	}
	if configure != nil {
		configure(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	return h
}

// start runs Start until the test ends or stop is called.
func (h *harness) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.d.Start(ctx) }()
	h.cancel = cancel
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Start: %v", err)
				}
			case <-time.After(2 * waitBound):
				t.Errorf("Start did not return after its context ended")
			}
		})
	}
	t.Cleanup(h.stop)
}

func (h *harness) submit(t *testing.T, e eventv1.Event) {
	t.Helper()
	if err := h.d.Submit(e); err != nil {
		t.Fatalf("Submit: %v", err)
	}
}

// delivered counts the deliveries of the type and result (and reason).
func (h *harness) delivered(typ, result, reason string) int {
	return int(testutil.ToFloat64(h.d.metrics.deliveries.WithLabelValues(typ, result, reason)))
}

func (h *harness) submitted(result, reason string) int {
	return int(testutil.ToFloat64(h.d.metrics.events.WithLabelValues(result, reason)))
}

func (h *harness) mustProvider(t *testing.T, name string) *fakeNotifier {
	t.Helper()
	n, ok := h.notifiers[name]
	if !ok {
		t.Fatalf("no notifier for Provider %s", name)
	}
	return n
}

func names(items []item) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s->%s", it.alert.Name, it.provider.Name))
	}
	return out
}
