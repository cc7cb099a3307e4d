package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// These tests run the skeleton on a fake client: they check the contract
// between it and a kind's steps, not the API server.

const (
	negCond = "FetchFailed"       // negative polarity
	posCond = "ArtifactInStorage" // owned, positive polarity
)

// passOnce reconciles an object with the given conditions through one step.
func passOnce(t *testing.T, r *reconcile.Reconciler[*sourcev1.GitRepository, struct{}], conds []metav1.Condition,
	step func(p *reconcile.Pass) error) (*sourcev1.GitRepository, ctrl.Result, error) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := sourcev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns", Finalizers: []string{meta.Finalizer}},
		Status: sourcev1.GitRepositoryStatus{Conditions: conds}}
	r.Client = fake.NewClientBuilder().WithScheme(scheme).WithObjects(obj).WithStatusSubresource(obj).Build()
	r.Kind = reconcile.Kind[*sourcev1.GitRepository, struct{}]{
		Name:       "Test",
		New:        func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Conditions: reconcile.ConditionSet{NegativePolarity: []string{negCond}, Owned: []string{posCond}},
		Plan: []reconcile.Step[*sourcev1.GitRepository, struct{}]{{Name: "only",
			Run: func(_ context.Context, _ *sourcev1.GitRepository, p *reconcile.Pass, _ *struct{}) error {
				return step(p)
			}}},
	}
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
	got := &sourcev1.GitRepository{}
	if gerr := r.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), got); gerr != nil {
		t.Fatal(gerr)
	}
	return got, res, err
}

func cond(t string, status metav1.ConditionStatus) metav1.Condition {
	return metav1.Condition{Type: t, Status: status, Reason: "Before", Message: "from an earlier pass", LastTransitionTime: metav1.Now()}
}

func TestErrorMarksItsConditionByPolarity(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want metav1.ConditionStatus
		t    string
	}{
		{"negative, generic", reconcile.FailedOn(negCond, "GitOperationFailed", errors.New("no")), metav1.ConditionTrue, negCond},
		{"negative, stalling", reconcile.StallingOn(negCond, "URLInvalid", errors.New("no")), metav1.ConditionTrue, negCond},
		{"positive, waiting", reconcile.WaitingOn(posCond, "NoArtifact", time.Minute, errors.New("no")), metav1.ConditionFalse, posCond},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, _ := passOnce(t, &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{}, nil, func(*reconcile.Pass) error { return c.err })
			mc := reconcile.Get(got, c.t)
			if mc == nil || mc.Status != c.want || mc.Message != "no" {
				t.Fatalf("%s = %+v, want %s with the error's message", c.t, mc, c.want)
			}
			if ready := reconcile.Get(got, meta.ReadyCondition); ready.Reason != mc.Reason {
				t.Errorf("Ready reason %s, the condition's %s", ready.Reason, mc.Reason)
			}
		})
	}
}

func TestCompletePassClearsUntouchedConditions(t *testing.T) {
	before := []metav1.Condition{cond(negCond, metav1.ConditionTrue), cond(posCond, metav1.ConditionTrue)}
	got, _, _ := passOnce(t, &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{}, before, func(p *reconcile.Pass) error {
		p.Keep(posCond)
		return nil
	})
	if reconcile.Get(got, negCond) != nil {
		t.Errorf("%s was not touched by a complete pass and should be gone", negCond)
	}
	if c := reconcile.Get(got, posCond); c == nil || c.Message != "from an earlier pass" {
		t.Errorf("%s was kept and should stay as it was: %+v", posCond, c)
	}
	if !reconcile.IsTrue(got, meta.ReadyCondition) {
		t.Errorf("Ready = %+v", reconcile.Get(got, meta.ReadyCondition))
	}
}

func TestFailedPassKeepsUntouchedConditions(t *testing.T) {
	before := []metav1.Condition{cond(posCond, metav1.ConditionTrue)}
	got, _, err := passOnce(t, &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{}, before, func(*reconcile.Pass) error {
		return reconcile.FailedOn(negCond, "GitOperationFailed", errors.New("remote said no"))
	})
	if err == nil {
		t.Error("a generic failure goes back to controller-runtime for back-off")
	}
	if c := reconcile.Get(got, posCond); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("a failed pass must keep %s: %+v", posCond, c)
	}
}

func TestOwnedConditionFalseDecidesReady(t *testing.T) {
	got, _, _ := passOnce(t, &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{}, nil, func(p *reconcile.Pass) error {
		p.MarkFalse(posCond, "Missing", "the artifact is gone")
		return nil
	})
	if ready := reconcile.Get(got, meta.ReadyCondition); ready.Status != metav1.ConditionFalse || ready.Reason != "Missing" {
		t.Errorf("Ready = %+v, want False Missing", ready)
	}
}

func TestWaitingWithoutAfterRequeuesAfterRequeueDependency(t *testing.T) {
	for _, c := range []struct {
		name             string
		after, configure time.Duration
		want             time.Duration
	}{
		{"default", 0, 0, reconcile.DefaultRequeueDependency},
		{"configured", 0, 5 * time.Second, 5 * time.Second},
		{"explicit", time.Hour, 5 * time.Second, time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{RequeueDependency: c.configure}
			_, res, err := passOnce(t, r, nil, func(*reconcile.Pass) error {
				return reconcile.Waiting(meta.DependencyNotReadyReason, c.after, "not yet")
			})
			if err != nil || res.RequeueAfter != c.want {
				t.Errorf("result %+v, %v; want RequeueAfter %s", res, err, c.want)
			}
		})
	}
}

// sinkFunc is an EventSink that hands each event to a function.
type sinkFunc func(annotations map[string]string, eventType, reason, message string)

func (f sinkFunc) Event(_ runtime.Object, annotations map[string]string, eventType, reason, message string) {
	f(annotations, eventType, reason, message)
}

func TestEventsGoThroughTheSink(t *testing.T) {
	var got []string
	r := &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{Events: sinkFunc(func(a map[string]string, typ, reason, msg string) {
		got = append(got, typ+" "+reason+" "+msg+" "+a[meta.SourceRevisionEventKey])
	})}
	passOnce(t, r, nil, func(p *reconcile.Pass) error {
		p.EventMetadata[meta.SourceRevisionEventKey] = "main@sha1:abc"
		p.Event("Normal", "Progressing", "stored")
		return nil
	})
	want := []string{"Normal Progressing stored main@sha1:abc", "Normal Succeeded reconciliation succeeded main@sha1:abc"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("events %q, want %q", got, want)
	}
}

// A step that recorded the very event Ready would announce (a Helm
// install's "Helm install succeeded ...") is not announced twice: an alert
// per event would page twice.
func TestReadyDoesNotRepeatAStepsEvent(t *testing.T) {
	for name, c := range map[string]struct {
		step func(p *reconcile.Pass) error
		want []string
	}{
		"success": {func(p *reconcile.Pass) error {
			p.Event("Normal", "Succeeded", "reconciliation succeeded")
			return nil
		}, []string{"Normal Succeeded reconciliation succeeded"}},
		"failure": {func(p *reconcile.Pass) error {
			p.Event("Warning", "InstallFailed", "install failed: boom")
			return reconcile.Failed("InstallFailed", "install failed: boom")
		}, []string{"Warning InstallFailed install failed: boom"}},
		"another event": {func(p *reconcile.Pass) error {
			p.Event("Normal", "Succeeded", "something else")
			return nil
		}, []string{"Normal Succeeded something else", "Normal Succeeded reconciliation succeeded"}},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			r := &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{Events: sinkFunc(func(_ map[string]string, typ, reason, msg string) {
				got = append(got, typ+" "+reason+" "+msg)
			})}
			_, _, _ = passOnce(t, r, nil, c.step)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("events %q, want %q", got, c.want)
			}
		})
	}
}
