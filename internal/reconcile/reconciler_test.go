package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The test kind reconciles GitRepository objects with steps whose outcome
// the object's behaviourAnnotation chooses, and counts the runs.
const (
	behaviourAnnotation = "test.driftless.io/behaviour"
	troubleCondition    = "FetchFailed"
)

// progressAfter is the test reconciler's ProgressAfter.
const progressAfter = 150 * time.Millisecond

var (
	env     *testcluster.Cluster
	kube    client.Client
	watcher client.WithWatch
	runs    = &counter{n: map[types.NamespacedName]int{}}
	final   = &counter{n: map[types.NamespacedName]int{}}
	// suspendedRuns counts steps that ran on an object whose spec said
	// suspend: the skeleton must never let that happen.
	suspendedRuns = &counter{n: map[types.NamespacedName]int{}}
	// slowSteps holds the step of a "slow" object until its test opens the
	// gate: the pass then runs longer than ProgressAfter for as long as the
	// test needs, not for a guessed time.
	slowSteps = &gates{ch: map[types.NamespacedName]chan struct{}{}}
)

// gates are channels by object, closed to let the object's step go on.
type gates struct {
	mu sync.Mutex
	ch map[types.NamespacedName]chan struct{}
}

func (g *gates) of(key types.NamespacedName) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gate(key)
}

// open lets the step of key go on, now and in every later pass.
func (g *gates) open(key types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch := g.gate(key)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// gate is the channel of key, made on first use; g.mu is held.
func (g *gates) gate(key types.NamespacedName) chan struct{} {
	ch, ok := g.ch[key]
	if !ok {
		ch = make(chan struct{})
		g.ch[key] = ch
	}
	return ch
}

type counter struct {
	mu sync.Mutex
	n  map[types.NamespacedName]int
}

func (c *counter) inc(o client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[client.ObjectKeyFromObject(o)]++
}

func (c *counter) get(key types.NamespacedName) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startManager}, &env)
}

func testKind() reconcile.Kind[*sourcev1.GitRepository, struct{}] {
	return reconcile.Kind[*sourcev1.GitRepository, struct{}]{
		Name:       sourcev1.GitRepositoryKind,
		New:        func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Conditions: reconcile.ConditionSet{NegativePolarity: []string{troubleCondition}},
		Plan: []reconcile.Step[*sourcev1.GitRepository, struct{}]{{
			Name: "behave",
			Run: func(ctx context.Context, obj *sourcev1.GitRepository, p *reconcile.Pass, _ *struct{}) error {
				runs.inc(obj)
				if obj.Spec.Suspend {
					suspendedRuns.inc(obj)
				}
				switch obj.GetAnnotations()[behaviourAnnotation] {
				case "quick":
					return nil
				case "slow":
					select {
					case <-slowSteps.of(client.ObjectKeyFromObject(obj)):
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				if err := p.Progress(meta.ProgressingReason, "behaving"); err != nil {
					return err
				}
				switch obj.GetAnnotations()[behaviourAnnotation] {
				case "fail":
					return reconcile.Failed("GitOperationFailed", "remote said no")
				case "trouble":
					// A condition that means trouble, left without failing the step.
					p.MarkTrue(troubleCondition, "AuthenticationFailed", "wrong password for the remote")
					return nil
				case "stall":
					return reconcile.Stalling("URLInvalid", "the URL cannot work")
				case "wait":
					return reconcile.Waiting(meta.DependencyNotReadyReason, time.Hour, "waiting for something")
				case "refused":
					return reconcile.Failed("ApplyFailed", "apply: %w", &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api",
						Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}})
				case "retry-later":
					return reconcile.Failed("ApplyFailed", "the manifests are invalid")
				}
				p.Delete(troubleCondition)
				return nil
			},
		}},
		Finalize: func(ctx context.Context, obj *sourcev1.GitRepository, _ *reconcile.Pass) error {
			final.inc(obj)
			return nil
		},
		// Failures of the two behaviours below are retried after an hour,
		// as a Kustomization's retryInterval says; the others back off.
		RetryAfter: func(obj *sourcev1.GitRepository) time.Duration {
			if b := obj.GetAnnotations()[behaviourAnnotation]; b == "refused" || b == "retry-later" {
				return time.Hour
			}
			return 0
		},
		Succeeded: func(obj *sourcev1.GitRepository) (string, string) {
			return meta.SucceededReason, "all good at " + obj.Spec.URL
		},
		Inert:       func(obj *sourcev1.GitRepository) bool { return obj.GetAnnotations()[behaviourAnnotation] == "inert" },
		ResetStatus: func(obj *sourcev1.GitRepository) { obj.Status = sourcev1.GitRepositoryStatus{} },
	}
}

func startManager(c *testcluster.Cluster) (func(), error) {
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), sourcev1.AddToScheme(scheme)); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(c.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		return nil, err
	}
	if err := reconcile.Start(context.Background(), mgr, testKind(), reconcile.Runtime{
		Events:        reconcile.RecorderSink{Recorder: mgr.GetEventRecorderFor("source-controller")},
		ProgressAfter: progressAfter,
		Controller:    reconcile.ControllerOptions{Concurrent: 2, Retry: reconcile.RetryOptions{MinRetryDelay: 50 * time.Millisecond, MaxRetryDelay: time.Second}},
	}); err != nil {
		return nil, err
	}
	kube = mgr.GetClient()
	if watcher, err = client.NewWithWatch(c.Config, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() { cancel(); <-done }, nil
}

func newRepo(t *testing.T, behaviour string) *sourcev1.GitRepository {
	t.Helper()
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: env.Namespace(t), Annotations: map[string]string{behaviourAnnotation: behaviour}},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://example.com/repo", Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	return repo
}

func condition(o *sourcev1.GitRepository, t string) *metav1.Condition {
	return reconcile.Get(o, t)
}

func TestSuccessAddsFinalizerAndReady(t *testing.T) {
	repo := newRepo(t, "ok")
	got := controllertest.WaitReady(t, kube, repo)
	if ready := condition(got, meta.ReadyCondition); ready.Reason != meta.SucceededReason || ready.Message != "all good at https://example.com/repo" {
		t.Errorf("Ready = %s %q", ready.Reason, ready.Message)
	}
	if condition(got, meta.ReconcilingCondition) != nil || condition(got, meta.StalledCondition) != nil {
		t.Errorf("Reconciling/Stalled should be gone after success: %+v", got.Status.Conditions)
	}
	if got.Status.ObservedGeneration != got.Generation {
		t.Errorf("observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
	}
	if len(got.Finalizers) != 1 || got.Finalizers[0] != meta.Finalizer {
		t.Errorf("finalizers = %v", got.Finalizers)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, "")
}

func TestGenericFailureRetriesWithBackoff(t *testing.T) {
	repo := newRepo(t, "fail")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "several failed runs", func(o *sourcev1.GitRepository) bool {
		return runs.get(client.ObjectKeyFromObject(repo)) >= 3 && condition(o, meta.ReadyCondition) != nil &&
			condition(o, meta.ReadyCondition).Status == metav1.ConditionFalse
	})
	ready := condition(got, meta.ReadyCondition)
	if ready.Reason != "GitOperationFailed" || ready.Message != "remote said no" {
		t.Errorf("Ready = %s %q", ready.Reason, ready.Message)
	}
	if r := condition(got, meta.ReconcilingCondition); r == nil || r.Status != metav1.ConditionTrue || r.Reason != meta.ProgressingWithRetryReason {
		t.Errorf("Reconciling = %+v, want True ProgressingWithRetry", r)
	}
	if got.Status.ObservedGeneration == got.Generation {
		t.Errorf("a failing reconciliation must not mark the generation observed")
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, "GitOperationFailed", "")
}

func TestNegativeConditionDecidesReady(t *testing.T) {
	repo := newRepo(t, "trouble")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "Ready=False", func(o *sourcev1.GitRepository) bool {
		c := condition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	if ready := condition(got, meta.ReadyCondition); ready.Reason != "AuthenticationFailed" || ready.Message != "wrong password for the remote" {
		t.Errorf("Ready should mirror the step's negative condition, got %s %q", ready.Reason, ready.Message)
	}
	// Fixing the cause clears the negative condition and Ready turns True.
	setBehaviour(t, repo, "ok")
	got = controllertest.WaitReady(t, kube, repo)
	if condition(got, troubleCondition) != nil {
		t.Errorf("%s still present after success", troubleCondition)
	}
}

func TestStallingStopsRetries(t *testing.T) {
	repo := newRepo(t, "stall")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "Stalled=True", func(o *sourcev1.GitRepository) bool { return reconcile.IsTrue(o, meta.StalledCondition) })
	controllertest.AssertKStatus(t, got)
	if ready := condition(got, meta.ReadyCondition); ready.Status != metav1.ConditionFalse || ready.Reason != "URLInvalid" {
		t.Errorf("Ready = %+v", ready)
	}
	if condition(got, meta.ReconcilingCondition) != nil {
		t.Errorf("a stalled object is not reconciling")
	}
	if got.Status.ObservedGeneration != got.Generation {
		t.Errorf("stalled: the generation was fully processed")
	}
	// No retries: a requestedAt still runs it exactly once more.
	before := runs.get(client.ObjectKeyFromObject(repo))
	controllertest.RequestReconcile(t, kube, repo, "stall-again")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "request handled", func(o *sourcev1.GitRepository) bool { return o.Status.LastHandledReconcileAt == "stall-again" })
	if after := runs.get(client.ObjectKeyFromObject(repo)); after != before+1 {
		t.Errorf("runs went from %d to %d; want exactly one more", before, after)
	}
}

func TestWaitingIsNotAFailure(t *testing.T) {
	repo := newRepo(t, "wait")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "Ready=False", func(o *sourcev1.GitRepository) bool {
		c := condition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	if ready := condition(got, meta.ReadyCondition); ready.Reason != meta.DependencyNotReadyReason {
		t.Errorf("Ready = %s", ready.Reason)
	}
	if n := runs.get(client.ObjectKeyFromObject(repo)); n != 1 {
		t.Errorf("a waiting object is not retried with back-off: %d runs", n)
	}
}

func TestRequestedAtTriggersAndIsRecorded(t *testing.T) {
	repo := newRepo(t, "ok")
	controllertest.WaitReady(t, kube, repo)
	before := runs.get(client.ObjectKeyFromObject(repo))
	controllertest.RequestReconcile(t, kube, repo, "2026-11-21T10:00:00Z")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "lastHandledReconcileAt", func(o *sourcev1.GitRepository) bool {
		return o.Status.LastHandledReconcileAt == "2026-11-21T10:00:00Z"
	})
	if after := runs.get(client.ObjectKeyFromObject(repo)); after <= before {
		t.Errorf("requestedAt did not run the steps (%d -> %d)", before, after)
	}
}

func TestSuspendStopsReconciliation(t *testing.T) {
	repo := newRepo(t, "ok")
	controllertest.WaitReady(t, kube, repo)
	controllertest.Patch(t, kube, repo, `{"spec":{"suspend":true}}`)
	before := runs.get(client.ObjectKeyFromObject(repo))
	// A request while suspended is not handled (no step may see the
	// suspended spec)...
	controllertest.RequestReconcile(t, kube, repo, "while-suspended")
	// ...and resuming reconciles again and handles it.
	controllertest.Patch(t, kube, repo, `{"spec":{"suspend":false}}`)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "request handled after resume", func(o *sourcev1.GitRepository) bool {
		return o.Status.LastHandledReconcileAt == "while-suspended" && o.Status.ObservedGeneration == o.Generation
	})
	if n := suspendedRuns.get(client.ObjectKeyFromObject(repo)); n != 0 {
		t.Errorf("steps ran %d times on a suspended object", n)
	}
	if after := runs.get(client.ObjectKeyFromObject(repo)); after <= before {
		t.Errorf("runs %d -> %d: resuming did not reconcile", before, after)
	}
}

func TestDeletionRunsFinalizer(t *testing.T) {
	repo := newRepo(t, "ok")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(repo), "finalizer", func(o *sourcev1.GitRepository) bool { return len(o.Finalizers) == 1 })
	if err := kube.Delete(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	err := testcluster.Poll(30*time.Second, func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(repo), &sourcev1.GitRepository{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("object not deleted: %v", err)
	}
	if final.get(client.ObjectKeyFromObject(repo)) != 1 {
		t.Errorf("Finalize ran %d times, want 1", final.get(client.ObjectKeyFromObject(repo)))
	}
}

func TestInertObjectIsCleanedUpOnceAndLeftAlone(t *testing.T) {
	repo := newRepo(t, "ok")
	key := client.ObjectKeyFromObject(repo)
	controllertest.WaitReady(t, kube, repo)
	before := runs.get(key)
	setBehaviour(t, repo, "inert")
	got := controllertest.WaitFor(t, kube, key, "no finalizer and an empty status", func(o *sourcev1.GitRepository) bool {
		return len(o.Finalizers) == 0 && len(o.Status.Conditions) == 0 && o.Status.ObservedGeneration == 0
	})
	if n := final.get(key); n != 1 {
		t.Errorf("Finalize ran %d times when the object became inert, want 1", n)
	}
	if n := runs.get(key); n != before {
		t.Errorf("the plan ran %d more times on an inert object", n-before)
	}
	if got.Status.LastHandledReconcileAt != "" {
		t.Errorf("an inert object's status was not emptied: %+v", got.Status)
	}
	// Back to a kind of object the controller keeps: it is reconciled again.
	setBehaviour(t, got, "ok")
	controllertest.WaitFor(t, kube, key, "finalizer back", func(o *sourcev1.GitRepository) bool { return len(o.Finalizers) == 1 })
	controllertest.WaitReady(t, kube, got)
}

func setBehaviour(t *testing.T, repo *sourcev1.GitRepository, b string) {
	controllertest.Patch(t, kube, repo, fmt.Sprintf(`{"metadata":{"annotations":{%q:%q,%q:%q}}}`, behaviourAnnotation, b, meta.ReconcileRequestAnnotation, b))
}

// statusLog is every state of the GitRepositories of a namespace that the
// API server sent, in order.
type statusLog struct {
	w    watch.Interface
	done chan struct{}

	mu   sync.Mutex
	seen []sourcev1.GitRepositoryStatus
}

// observeStatuses records every state of the GitRepositories of ns that the
// API server sends, from now until stop is called.
func observeStatuses(t *testing.T, ns string) *statusLog {
	t.Helper()
	w, err := watcher.Watch(context.Background(), &sourcev1.GitRepositoryList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	l := &statusLog{w: w, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for e := range w.ResultChan() {
			if o, ok := e.Object.(*sourcev1.GitRepository); ok {
				l.mu.Lock()
				l.seen = append(l.seen, o.Status)
				l.mu.Unlock()
			}
		}
	}()
	t.Cleanup(w.Stop)
	return l
}

// waitFor waits until the watch has delivered a state for which cond holds.
func (l *statusLog) waitFor(t *testing.T, what string, cond func(sourcev1.GitRepositoryStatus) bool) {
	t.Helper()
	testcluster.Eventually(t, 30*time.Second, what+" in the watch", func() (bool, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return slices.ContainsFunc(l.seen, cond), nil
	})
}

// stop ends the watch and returns every state it delivered.
func (l *statusLog) stop() []sourcev1.GitRepositoryStatus {
	l.w.Stop()
	<-l.done
	return l.seen
}

func ready(s sourcev1.GitRepositoryStatus) bool {
	return reconcile.IsTrue(&sourcev1.GitRepository{Status: s}, meta.ReadyCondition)
}

// startWritten tells whether s is the start of a first pass: Reconciling,
// Ready Unknown with the new generation's message.
func startWritten(s sourcev1.GitRepositoryStatus) bool {
	c := reconcile.Get(&sourcev1.GitRepository{Status: s}, meta.ReadyCondition)
	return reconciling(s) && c != nil && c.Status == metav1.ConditionUnknown &&
		c.Message == "processing object: new generation -1 -> 1"
}

func reconciling(s sourcev1.GitRepositoryStatus) bool {
	for _, c := range s.Conditions {
		if c.Type == meta.ReconcilingCondition && c.Status == metav1.ConditionTrue {
			return true
		}
	}
	return false
}

// A pass that ends within ProgressAfter writes its status once: its start
// is never written.
func TestQuickPassWritesItsStatusOnce(t *testing.T) {
	ns := env.Namespace(t)
	statuses := observeStatuses(t, ns)
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "quick", Namespace: ns, Annotations: map[string]string{behaviourAnnotation: "quick"}},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://example.com/repo", Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	statuses.waitFor(t, "Ready=True", ready)
	// Not a wait for state but a window in which nothing may happen: the
	// delayed start write was due ProgressAfter after the pass began, which
	// was before Ready; one that still went out after the final status
	// (the bug this test guards against) would show by now.
	time.Sleep(2 * progressAfter)
	seen := statuses.stop()
	writes := 0
	for i, s := range seen {
		if reconciling(s) {
			t.Errorf("state %d of %d was written while reconciling: %+v", i, len(seen), s.Conditions)
		}
		if i > 0 && len(s.Conditions) > 0 && len(seen[i-1].Conditions) == 0 {
			writes++
		}
	}
	if writes != 1 || !reconcile.IsTrue(&sourcev1.GitRepository{Status: seen[len(seen)-1]}, meta.ReadyCondition) {
		t.Errorf("want one status write ending Ready, got %d states: %+v", len(seen), seen)
	}
}

// A pass that runs longer than ProgressAfter shows its start meanwhile.
func TestSlowPassShowsItsStart(t *testing.T) {
	ns := env.Namespace(t)
	statuses := observeStatuses(t, ns)
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: ns, Annotations: map[string]string{behaviourAnnotation: "slow"}},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://example.com/repo", Interval: metav1.Duration{Duration: time.Hour}},
	}
	key := client.ObjectKeyFromObject(repo)
	t.Cleanup(func() { slowSteps.open(key) })
	if err := kube.Create(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	// The step holds the pass until its start has been seen: however slow
	// the machine, the pass is still running when its start is written.
	statuses.waitFor(t, "the pass's start", startWritten)
	slowSteps.open(key)
	got := controllertest.WaitReady(t, kube, repo)
	statuses.waitFor(t, "Ready=True", ready)
	seen := statuses.stop()
	started := false
	for _, s := range seen {
		if reconciling(s) {
			started = startWritten(s)
		}
	}
	if !started {
		t.Errorf("the start of a pass longer than ProgressAfter was never written: %+v", seen)
	}
	if reconciling(got.Status) || got.Status.ObservedGeneration != got.Generation {
		t.Errorf("final status: %+v", got.Status)
	}
}

// A failure with a retry interval waits for it; one that comes from the
// API server being out of reach backs off instead, however long the
// interval.
func TestUnreachableAPIServerBacksOffInsteadOfRetryInterval(t *testing.T) {
	later := newRepo(t, "retry-later")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(later), "Ready=False", func(o *sourcev1.GitRepository) bool {
		c := condition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	refused := newRepo(t, "refused")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(refused), "several failed runs", func(o *sourcev1.GitRepository) bool {
		return runs.get(client.ObjectKeyFromObject(refused)) >= 3
	})
	if n := runs.get(client.ObjectKeyFromObject(later)); n != 1 {
		t.Errorf("a failure with a retry interval of an hour ran %d times, want 1", n)
	}
}
