package dependency

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
)

// readyExpr is compiled once, bounded in cost and time, interrupted with
// the reconciliation, and never quotes what it read.
func TestReadyExprIsBounded(t *testing.T) {
	r := &Checker[*kustomizev1.Kustomization]{Kind: kustomizev1.KustomizationKind, Expressions: &Expressions{}}
	self := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "team"}}
	dep := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "team",
		Annotations: map[string]string{"token": "s3cr3t-value-of-the-dep"}}}
	dep.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue}}
	ctx := context.Background()

	if ok, err := r.evalReadyExpr(ctx, "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')", self, dep); err != nil || !ok {
		t.Errorf("ready dependency: %v, %v", ok, err)
	}
	if ok, err := r.evalReadyExpr(ctx, "dep.status.lastAppliedRevision == 'main'", self, dep); err != nil || ok {
		t.Errorf("a field the dependency lacks: %v, %v; want not ready, no error", ok, err)
	}

	list := "[" + strings.Repeat("0,", 300) + "0]"
	expensive := list + ".all(a, " + list + ".all(b, " + list + ".all(c, true)))"
	for name, expr := range map[string]string{
		"does not compile": "dep.status.(",
		"not a bool":       "dep.metadata.annotations.token",
		"too expensive":    expensive,
	} {
		_, err := r.evalReadyExpr(ctx, expr, self, dep)
		var stalled *reconcile.StallingError
		if !errors.As(err, &stalled) || stalled.Reason != meta.InvalidCELExpressionReason {
			t.Errorf("%s: error %v, want Stalled InvalidCELExpression", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the message quotes a value: %v", name, err)
		}
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.evalReadyExpr(cancelled, list+".all(a, "+list+".all(b, true))", self, dep); err == nil {
		t.Error("evaluated under a cancelled context")
	}
	if n := len(r.Expressions.cache); n != 5 {
		t.Errorf("%d compiled expressions kept, want the 5 that compile", n)
	}
}
