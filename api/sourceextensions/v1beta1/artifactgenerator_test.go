package v1beta1_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// TestSuspendIsTheReconcileAnnotation: only "disabled", in any case,
// suspends; other values and other annotations do not.
func TestSuspendIsTheReconcileAnnotation(t *testing.T) {
	for value, want := range map[string]bool{"disabled": true, "DISABLED": true, "enabled": false, "": false, "no": false} {
		ag := &v1beta1.ArtifactGenerator{}
		ag.SetAnnotations(map[string]string{v1beta1.ReconcileAnnotation: value})
		if got := ag.IsSuspended(); got != want {
			t.Errorf("IsSuspended with %s=%q = %v, want %v", v1beta1.ReconcileAnnotation, value, got, want)
		}
	}
	ag := &v1beta1.ArtifactGenerator{}
	ag.SetAnnotations(map[string]string{"reconcile.fluxcd.io/requestedAt": "disabled"})
	if ag.IsSuspended() {
		t.Error("another annotation suspends the generator")
	}
}

// TestObservedGenerationLivesOnReady: before any Ready condition nothing is
// observed, and setting it then changes nothing; afterwards it is Ready's,
// and the other conditions are left alone.
func TestObservedGenerationLivesOnReady(t *testing.T) {
	ag := &v1beta1.ArtifactGenerator{}
	ag.SetObservedGeneration(3)
	if got := ag.GetObservedGeneration(); got != 0 {
		t.Fatalf("GetObservedGeneration without Ready = %d, want 0", got)
	}
	if len(ag.GetConditions()) != 0 {
		t.Fatalf("SetObservedGeneration without Ready added conditions: %v", ag.GetConditions())
	}
	ag.SetConditions([]metav1.Condition{
		{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, ObservedGeneration: 1},
		{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, ObservedGeneration: 1},
	})
	ag.SetObservedGeneration(4)
	if got := ag.GetObservedGeneration(); got != 4 {
		t.Errorf("GetObservedGeneration = %d, want 4", got)
	}
	if got := ag.GetConditions()[0].ObservedGeneration; got != 1 {
		t.Errorf("Reconciling's observedGeneration changed to %d", got)
	}
}

// TestDefaults: an empty strategy is Overwrite and an empty source
// namespace is the generator's.
func TestDefaults(t *testing.T) {
	if got := (v1beta1.CopyOperation{}).GetStrategy(); got != v1beta1.OverwriteStrategy {
		t.Errorf("empty strategy = %q, want Overwrite", got)
	}
	if got := (v1beta1.CopyOperation{Strategy: v1beta1.MergeStrategy}).GetStrategy(); got != v1beta1.MergeStrategy {
		t.Errorf("Merge strategy read back as %q", got)
	}
	ag := &v1beta1.ArtifactGenerator{ObjectMeta: metav1.ObjectMeta{Namespace: "apps"}}
	if got := ag.SourceNamespace(v1beta1.SourceReference{Name: "repo"}); got != "apps" {
		t.Errorf("source namespace = %q, want the generator's, apps", got)
	}
	if got := ag.SourceNamespace(v1beta1.SourceReference{Name: "repo", Namespace: "infra"}); got != "infra" {
		t.Errorf("source namespace = %q, want infra", got)
	}
	if got := ag.GetRequeueAfter().String(); got != "1h0m0s" {
		t.Errorf("GetRequeueAfter = %s, want 1h", got)
	}
}
