package imageupdateautomation

import (
	"errors"
	"testing"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// TestTemplateStalls: the template step stalls with the reasons and
// words the automation's Ready condition has always had.
func TestTemplateStalls(t *testing.T) {
	for _, c := range []struct{ text, reason, message string }{
		{"{{ .Changed", imagev1.UpdateFailedReason,
			"failed to parse commit message template: template: commit message:1: unclosed action"},
		{"{{ .Changed.ImageResult }}", imagev1.RemovedTemplateFieldReason,
			"template uses removed field '.Changed.ImageResult'; use '.Changed' (FileChanges, Changes, Objects)"},
	} {
		obj := &imagev1.ImageUpdateAutomation{}
		obj.Spec.GitSpec = &imagev1.GitSpec{Commit: imagev1.CommitSpec{MessageTemplate: c.text}}
		err := (&Reconciler{}).reconcileTemplate(t.Context(), obj, &reconcile.Pass{}, &Run{})
		var stall *reconcile.StallingError
		if !errors.As(err, &stall) || stall.Reason != c.reason || err.Error() != c.message {
			t.Errorf("%q: %v, want a %s stall %q", c.text, err, c.reason, c.message)
		}
	}
}
