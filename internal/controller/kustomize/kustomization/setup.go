package kustomization

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/dependency"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/reconcile"
)

// Field indexes of Kustomizations, so a change upstream finds its dependants at once.
const (
	sourceIndex    = "spec.sourceRef"
	dependsOnIndex = "spec.dependsOn"
	configIndex    = "spec.configRefs"
)

// indexes find a Kustomization by its source, its dependencies and the
// ConfigMaps and Secrets it reads.
func indexes() []reconcile.Index[*kustomizev1.Kustomization] {
	return []reconcile.Index[*kustomizev1.Kustomization]{
		{Field: sourceIndex, Keys: func(k *kustomizev1.Kustomization) []string { return []string{sourceKey(k)} }},
		{Field: dependsOnIndex, Keys: func(k *kustomizev1.Kustomization) []string {
			var keys []string
			for _, d := range k.Spec.DependsOn {
				keys = append(keys, dependency.Key(k, d))
			}
			return keys
		}},
		{Field: configIndex, Keys: configRefs},
	}
}

// watches make a Kustomization reconcile the moment something it depends
// on changes: its source's artifact, a dependency becoming ready, and
// ConfigMaps or Secrets labelled reconcile.fluxcd.io/watch: Enabled that it
// reads.
func (r *Reconciler) watches() []reconcile.Watch {
	var ws []reconcile.Watch
	sources := []client.Object{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{}, &sourcev1.Bucket{}}
	if !r.NoExternalArtifact {
		sources = append(sources, &sourcev1.ExternalArtifact{})
	}
	for _, src := range sources {
		ws = append(ws, reconcile.Watch{Object: src, Map: r.forSource, Predicates: []predicate.Predicate{reconcile.ArtifactChanged(true, false)}})
	}
	ws = append(ws, reconcile.Watch{Object: &kustomizev1.Kustomization{}, Map: r.dependants, Predicates: []predicate.Predicate{readinessChanged()}})
	if !r.NoConfigWatchers {
		ws = append(ws, reconcile.ConfigWatches(r.Client, func() client.ObjectList { return &kustomizev1.KustomizationList{} }, configIndex)...)
	}
	return ws
}

// configRefs are the ConfigMaps and Secrets a Kustomization reads, as Kind/name.
func configRefs(k *kustomizev1.Kustomization) []string {
	var refs []string
	if pb := k.Spec.PostBuild; pb != nil {
		for _, s := range pb.SubstituteFrom {
			refs = append(refs, reconcile.ConfigKey(s.Kind, s.Name))
		}
	}
	if d := k.Spec.Decryption; d != nil && d.SecretRef != nil {
		refs = append(refs, reconcile.ConfigKey("Secret", d.SecretRef.Name))
	}
	if kc := k.Spec.KubeConfig; kc != nil && kc.SecretRef != nil {
		refs = append(refs, reconcile.ConfigKey("Secret", kc.SecretRef.Name))
	}
	return refs
}

// forSource lists the Kustomizations of a source whose artifact changed,
// cancelling their health checks of an older revision.
func (r *Reconciler) forSource(ctx context.Context, src client.Object) []ctrl.Request {
	reqs := r.list(ctx, client.MatchingFields{sourceIndex: fmt.Sprintf("%s/%s/%s", sourceref.KindOf(src), src.GetNamespace(), src.GetName())})
	if a, ok := src.(artifactSource); ok && a.GetArtifact() != nil {
		for _, req := range reqs {
			r.cancelStaleWait(req.NamespacedName, a.GetArtifact().Revision)
		}
	}
	return reqs
}

// dependants lists the Kustomizations that depend on k.
func (r *Reconciler) dependants(ctx context.Context, k client.Object) []ctrl.Request {
	return r.list(ctx, client.MatchingFields{dependsOnIndex: k.GetNamespace() + "/" + k.GetName()})
}

func (r *Reconciler) list(ctx context.Context, opts ...client.ListOption) []ctrl.Request {
	return reconcile.Indexed(ctx, r.Client, &kustomizev1.KustomizationList{}, opts...)
}

// readinessChanged passes Kustomization updates that may unblock a dependant.
func readinessChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*kustomizev1.Kustomization)
			n, ok2 := e.ObjectNew.(*kustomizev1.Kustomization)
			if !ok1 || !ok2 {
				return false
			}
			return reconcile.IsTrue(o, meta.ReadyCondition) != reconcile.IsTrue(n, meta.ReadyCondition) ||
				o.Status.LastAppliedRevision != n.Status.LastAppliedRevision ||
				o.Status.ObservedGeneration != n.Status.ObservedGeneration
		},
	}
}
