package controllertest_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

func TestKStatus(t *testing.T) {
	cond := func(typ string, s metav1.ConditionStatus, gen int64) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: "R", ObservedGeneration: gen}
	}
	for _, tc := range []struct {
		name     string
		gen, obs int64
		conds    []metav1.Condition
		want     string // "" for none, else a piece of the error
	}{
		{"ready", 2, 2, []metav1.Condition{cond("Ready", "True", 2)}, ""},
		{"stalled", 2, 2, []metav1.Condition{cond("Ready", "False", 2), cond("Stalled", "True", 2)}, ""},
		{"waiting on a new generation", 3, 2, []metav1.Condition{cond("Ready", "False", 3), cond("Reconciling", "True", 3)}, ""},
		{"kept condition of an earlier pass", 3, 3, []metav1.Condition{cond("Ready", "True", 3), cond("ArtifactInStorage", "True", 2)}, ""},
		{"no conditions", 1, 0, nil, "no Ready condition"},
		{"reconciling and stalled", 1, 1, []metav1.Condition{cond("Ready", "False", 1), cond("Stalled", "True", 1), cond("Reconciling", "True", 1)}, "both True"},
		{"stalled but ready", 1, 1, []metav1.Condition{cond("Ready", "True", 1), cond("Stalled", "True", 1)}, "Stalled=True but Ready=True"},
		{"ready at an old generation", 2, 1, []metav1.Condition{cond("Ready", "True", 1)}, "observedGeneration 1, generation 2"},
		{"stalled at an old generation", 2, 1, []metav1.Condition{cond("Ready", "False", 1), cond("Stalled", "True", 1)}, "observedGeneration 1, generation 2"},
		{"condition without observedGeneration", 1, 1, []metav1.Condition{cond("Ready", "True", 1), cond("Healthy", "True", 0)}, "Healthy has no observedGeneration"},
		{"condition ahead", 1, 1, []metav1.Condition{cond("Ready", "True", 1), cond("Healthy", "True", 2)}, "ahead of generation"},
		{"ready behind the status", 2, 2, []metav1.Condition{cond("Ready", "True", 1)}, "Ready condition at observedGeneration 1, status at 2"},
		{"kind without condition generations", 1, 1, []metav1.Condition{cond("Ready", "True", 0)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sourcev1.GitRepository{}
			o.Generation = tc.gen
			o.Status.ObservedGeneration = tc.obs
			o.Status.Conditions = tc.conds
			err := controllertest.KStatus(o)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
