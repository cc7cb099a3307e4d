package kustomization

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

// TestValidateStep runs the first step alone: what can never work is
// refused, with Stalled and Flux's reason, before anything is read.
func TestValidateStep(t *testing.T) {
	for _, c := range []struct {
		name       string
		lockdown   bool
		spec       kustomizev1.KustomizationSpec
		wantReason string // "" for no error
		wantText   string
	}{
		{name: "nothing to refuse"},
		{
			name: "health expression that does not compile",
			spec: kustomizev1.KustomizationSpec{HealthCheckExprs: []meta.CustomHealthCheck{{
				APIVersion: "example.com/v1", Kind: "Widget",
				HealthCheckExpressions: meta.HealthCheckExpressions{Current: "status.ready ==="},
			}}},
			wantReason: meta.InvalidCELExpressionReason, wantText: "status.ready ===",
		},
		{
			name:       "cross-namespace health check under lockdown",
			lockdown:   true,
			spec:       kustomizev1.KustomizationSpec{HealthChecks: []meta.NamespacedObjectKindReference{{Kind: "Deployment", Name: "web", Namespace: "other"}}},
			wantReason: meta.AccessDeniedReason, wantText: "cannot check the health of Deployment other/web, cross-namespace references have been disabled",
		},
		{
			name: "cross-namespace health check without lockdown",
			spec: kustomizev1.KustomizationSpec{HealthChecks: []meta.NamespacedObjectKindReference{{Kind: "Deployment", Name: "web", Namespace: "other"}}},
		},
		{
			name:     "same-namespace health check under lockdown",
			lockdown: true,
			spec:     kustomizev1.KustomizationSpec{HealthChecks: []meta.NamespacedObjectKindReference{{Kind: "Deployment", Name: "web", Namespace: "apps"}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Reconciler{NoCrossNamespaceRefs: c.lockdown}
			obj := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "ks", Namespace: "apps"}, Spec: c.spec}
			out := reconcile.RunStep(context.Background(), reconcile.Step[*kustomizev1.Kustomization, State]{Name: "validate", Run: r.validate}, obj, nil)
			if c.wantReason == "" {
				if out.Err != nil {
					t.Fatalf("refused: %v", out.Err)
				}
				return
			}
			var stalling *reconcile.StallingError
			if !errors.As(out.Err, &stalling) || stalling.Reason != c.wantReason || !strings.Contains(out.Err.Error(), c.wantText) {
				t.Fatalf("got %v, want Stalled %s containing %q", out.Err, c.wantReason, c.wantText)
			}
		})
	}
}
