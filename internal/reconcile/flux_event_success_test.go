package reconcile_test

import (
	"context"
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

// A kind's SucceededEvent words the success event and adds metadata,
// while Ready keeps its own message; it goes out on a new Ready message
// or a recovery only, not on every interval.
func TestSucceededEventOnNewRevisionOrRecoveryOnly(t *testing.T) {
	ready := func(status metav1.ConditionStatus, message string) []metav1.Condition {
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: status, Reason: "Succeeded", Message: message, LastTransitionTime: metav1.Now()}}
	}
	for name, c := range map[string]struct {
		before []metav1.Condition
		want   int
	}{
		"first success":       {nil, 1},
		"recovery":            {ready("False", "Applied revision: r1"), 1},
		"new revision":        {ready("True", "Applied revision: r0"), 1},
		"same revision again": {ready("True", "Applied revision: r1"), 0},
	} {
		t.Run(name, func(t *testing.T) {
			type event struct {
				message  string
				metadata map[string]string
			}
			var got []event
			r := &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{Events: sinkFunc(func(a map[string]string, typ, reason, msg string) {
				got = append(got, event{msg, a})
			})}
			obj := runSucceeded(t, r, c.before)
			if len(got) != c.want {
				t.Fatalf("events %+v, want %d", got, c.want)
			}
			if m := reconcile.Get(obj, meta.ReadyCondition).Message; m != "Applied revision: r1" {
				t.Errorf("Ready message %q changed", m)
			}
			if c.want == 1 {
				if got[0].message != "Applied revision: r1, reconciliation finished in 0s" ||
					got[0].metadata["test/commit_status"] != "update" || got[0].metadata["test/revision"] != "r1" {
					t.Errorf("event %+v", got[0])
				}
			}
		})
	}
}

func runSucceeded(t *testing.T, r *reconcile.Reconciler[*sourcev1.GitRepository, struct{}], conds []metav1.Condition) *sourcev1.GitRepository {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := sourcev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns", Finalizers: []string{meta.Finalizer}},
		Status: sourcev1.GitRepositoryStatus{Conditions: conds}}
	r.Client = fake.NewClientBuilder().WithScheme(scheme).WithObjects(obj).WithStatusSubresource(obj).Build()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return now }
	r.Kind = reconcile.Kind[*sourcev1.GitRepository, struct{}]{
		Name: "Test",
		New:  func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Plan: []reconcile.Step[*sourcev1.GitRepository, struct{}]{{Name: "only",
			Run: func(_ context.Context, _ *sourcev1.GitRepository, p *reconcile.Pass, _ *struct{}) error {
				p.EventMetadata["test/revision"] = "r1"
				return nil
			}}},
		Succeeded: func(*sourcev1.GitRepository) (string, string) { return "Succeeded", "Applied revision: r1" },
		SucceededEvent: func(_ *sourcev1.GitRepository, took time.Duration) (string, map[string]string) {
			return "Applied revision: r1, reconciliation finished in " + took.String(), map[string]string{"test/commit_status": "update"}
		},
	}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}); err != nil {
		t.Fatal(err)
	}
	got := &sourcev1.GitRepository{}
	if err := r.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStaleReadDoesNotRepeatTheSuccessEvent: a watch may ask again before
// the cache has seen the pass's own status; the second pass then starts
// from the object as it was (not Ready). The success it repeats is not
// news: one event, not two. A failure in between makes the next success
// news again.
func TestStaleReadDoesNotRepeatTheSuccessEvent(t *testing.T) {
	var got []string
	r := &reconcile.Reconciler[*sourcev1.GitRepository, struct{}]{Events: sinkFunc(func(_ map[string]string, typ, reason, msg string) {
		got = append(got, typ+" "+msg)
	})}
	obj := runSucceeded(t, r, nil)
	if len(got) != 1 {
		t.Fatalf("events after the first success: %v", got)
	}
	stale := obj.DeepCopy()
	stale.Status.Conditions = nil // what a cache behind the first pass's write holds
	if err := r.Client.Status().Update(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	reconcileOnce(t, r, obj)
	if len(got) != 1 {
		t.Errorf("a pass from a stale read repeated the success: %v", got)
	}

	fail := true
	r.Kind.Plan = []reconcile.Step[*sourcev1.GitRepository, struct{}]{{Name: "only",
		Run: func(context.Context, *sourcev1.GitRepository, *reconcile.Pass, *struct{}) error {
			if fail {
				return reconcile.Failed("Broken", "upstream broke")
			}
			return nil
		}}}
	reconcileOnce(t, r, obj)
	fail = false
	reconcileOnce(t, r, obj)
	if len(got) != 3 || !strings.HasPrefix(got[1], "Warning") || !strings.HasPrefix(got[2], "Normal") {
		t.Errorf("failure then recovery: %v, want a Warning then the success again", got)
	}
}

func reconcileOnce(t *testing.T, r *reconcile.Reconciler[*sourcev1.GitRepository, struct{}], obj client.Object) {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}); err != nil && !strings.Contains(err.Error(), "upstream broke") {
		t.Fatal(err)
	}
}
