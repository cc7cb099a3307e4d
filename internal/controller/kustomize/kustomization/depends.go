package kustomization

import (
	"context"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/controller/dependency"
)

// checkDependencies fails when a dependency is missing or not ready, and
// stalls on a dependency cycle, naming it. Readiness follows Flux: the
// dependency reconciled its current generation, is Ready, and when it uses
// the same source it applied the revision this Kustomization is about to.
func (r *Reconciler) checkDependencies(ctx context.Context, obj *kustomizev1.Kustomization, src artifactSource) error {
	c := dependency.Checker[*kustomizev1.Kustomization]{
		Client:               r.Client,
		Kind:                 kustomizev1.KustomizationKind,
		New:                  func() *kustomizev1.Kustomization { return &kustomizev1.Kustomization{} },
		NoCrossNamespaceRefs: r.NoCrossNamespaceRefs,
		Expressions:          &r.readyExprs,
	}
	return c.Check(ctx, obj, func(dep *kustomizev1.Kustomization) bool {
		if sourceKey(dep) == sourceKey(obj) && src.GetArtifact() != nil {
			return dep.Status.LastAppliedRevision == src.GetArtifact().Revision
		}
		return true
	})
}
