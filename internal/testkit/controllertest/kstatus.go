package controllertest

import (
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
)

// KStatus tells how the object's status breaks the kstatus conventions the
// reconcile skeleton promises every kind, or nil when it keeps them:
//   - Ready is present;
//   - Reconciling and Stalled are never both True;
//   - Stalled=True goes with Ready=False;
//   - when Ready is True or Stalled is True, status.observedGeneration is
//     the object's generation;
//   - when the kind records observedGeneration on its conditions, every
//     condition has one, none ahead of the object's generation, and Ready's
//     is status.observedGeneration whenever the latter is current.
//
// It reads one state of the object, as a client sees it.
func KStatus(obj meta.Object) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	ready := reconcile.Get(obj, meta.ReadyCondition)
	stalled := reconcile.IsTrue(obj, meta.StalledCondition)
	gen, observed := obj.GetGeneration(), obj.GetObservedGeneration()
	if ready == nil {
		bad("no %s condition", meta.ReadyCondition)
	}
	if stalled && reconcile.IsTrue(obj, meta.ReconcilingCondition) {
		bad("%s and %s are both True", meta.ReconcilingCondition, meta.StalledCondition)
	}
	if stalled && ready != nil && ready.Status != metav1.ConditionFalse {
		bad("%s=True but %s=%s", meta.StalledCondition, meta.ReadyCondition, ready.Status)
	}
	if (stalled || (ready != nil && ready.Status == metav1.ConditionTrue)) && observed != gen {
		bad("Ready=True or Stalled=True at observedGeneration %d, generation %d", observed, gen)
	}
	conds := obj.GetConditions()
	recorded := false
	for _, c := range conds {
		recorded = recorded || c.ObservedGeneration != 0
	}
	if recorded {
		for _, c := range conds {
			if c.ObservedGeneration == 0 {
				bad("condition %s has no observedGeneration where the others have", c.Type)
			} else if c.ObservedGeneration > gen {
				bad("condition %s at observedGeneration %d, ahead of generation %d", c.Type, c.ObservedGeneration, gen)
			}
		}
		if ready != nil && observed == gen && ready.ObservedGeneration != observed {
			bad("%s condition at observedGeneration %d, status at %d", meta.ReadyCondition, ready.ObservedGeneration, observed)
		}
	}
	return errors.Join(errs...)
}

// AssertKStatus fails the test when the object's status breaks kstatus (see
// KStatus), showing the status.
func AssertKStatus(t testing.TB, obj Object) {
	t.Helper()
	if err := KStatus(obj); err != nil {
		t.Errorf("%T %s/%s does not follow kstatus:\n%v\n%s", obj, obj.GetNamespace(), obj.GetName(), err, Describe(obj))
	}
}
