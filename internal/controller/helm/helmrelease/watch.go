package helmrelease

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/controller/dependency"
	"github.com/driftless/driftless/internal/reconcile"
)

// artifactChanged passes a chart source whose artifact appeared or changed.
func artifactChanged() []predicate.Predicate {
	return []predicate.Predicate{reconcile.ArtifactChanged(true, false)}
}

// readyChanged passes a HelmRelease whose readiness, generation or release
// changed: what its dependants wait for.
func readyChanged() []predicate.Predicate {
	return []predicate.Predicate{predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*helmv2.HelmRelease)
			n, ok2 := e.ObjectNew.(*helmv2.HelmRelease)
			if !ok1 || !ok2 {
				return false
			}
			return reconcile.IsTrue(o, meta.ReadyCondition) != reconcile.IsTrue(n, meta.ReadyCondition) ||
				o.Status.ObservedGeneration != n.Status.ObservedGeneration ||
				o.Status.LastReleaseRevision != n.Status.LastReleaseRevision
		},
	}}
}

// checkDependencies waits for the dependsOn releases to be ready (Flux's
// rule or their readyExpr) and stalls on a cycle, naming it.
func (r *Reconciler) checkDependencies(ctx context.Context, obj *helmv2.HelmRelease, _ *reconcile.Pass, _ *State) error {
	if len(obj.Spec.DependsOn) == 0 {
		return nil
	}
	c := dependency.Checker[*helmv2.HelmRelease]{
		Client:               r.Client,
		Kind:                 helmv2.HelmReleaseKind,
		New:                  func() *helmv2.HelmRelease { return &helmv2.HelmRelease{} },
		NoCrossNamespaceRefs: r.NoCrossNamespaceRefs,
		Expressions:          &r.exprs,
	}
	return c.Check(ctx, obj, func(*helmv2.HelmRelease) bool { return true })
}

// valuesFromIndex indexes HelmReleases by the ConfigMaps and Secrets of
// their valuesFrom (reconcile.ConfigKey, in their own namespace).
const valuesFromIndex = ".spec.valuesFrom"

func valuesFromKeys(obj *helmv2.HelmRelease) []string {
	keys := make([]string, 0, len(obj.Spec.ValuesFrom))
	for _, v := range obj.Spec.ValuesFrom {
		keys = append(keys, reconcile.ConfigKey(v.Kind, v.Name))
	}
	return keys
}

// valuesFromWatches reconcile the releases reading a ConfigMap or Secret
// that --watch-configs-label-selector selects when it changes, as Flux
// does: new values upgrade at once, not at the next interval. An
// unlabelled one is not in the shared cache, and is read at the next pass.
func (r *Reconciler) valuesFromWatches() []reconcile.Watch {
	return reconcile.ConfigWatches(r.Client, func() client.ObjectList { return &helmv2.HelmReleaseList{} }, valuesFromIndex)
}
