package artifactgenerator

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/reconcile"
)

// Field indexes of ArtifactGenerators.
const (
	// sourcesIndex finds the generators of a source: Kind/namespace/name.
	sourcesIndex = "spec.sources"
	// uidIndex finds the generator a generated ExternalArtifact's label names.
	uidIndex = "metadata.uid"
)

func indexes() []reconcile.Index[*swv1.ArtifactGenerator] {
	return []reconcile.Index[*swv1.ArtifactGenerator]{
		{Field: sourcesIndex, Keys: func(g *swv1.ArtifactGenerator) []string {
			keys := make([]string, 0, len(g.Spec.Sources))
			for _, s := range g.Spec.Sources {
				keys = append(keys, sourceKey(s.Kind, g.SourceNamespace(s), s.Name))
			}
			return keys
		}},
		{Field: uidIndex, Keys: func(g *swv1.ArtifactGenerator) []string { return []string{string(g.UID)} }},
	}
}

func sourceKey(kind, namespace, name string) string {
	return fmt.Sprintf("%s/%s/%s", kind, namespace, name)
}

// watches rebuild a generator when a source's artifact changes, and
// restore a generated ExternalArtifact that was edited or deleted.
func (r *Reconciler) watches() []reconcile.Watch {
	var ws []reconcile.Watch
	for _, src := range []client.Object{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{}, &sourcev1.Bucket{}, &sourcev1.HelmChart{}} {
		ws = append(ws, reconcile.Watch{Object: src, Map: r.forSource, Predicates: []predicate.Predicate{reconcile.ArtifactChanged(true, false)}})
	}
	ws = append(ws, reconcile.Watch{Object: &sourcev1.ExternalArtifact{}, Map: r.forExternalArtifact, Predicates: []predicate.Predicate{
		predicate.Or(reconcile.ArtifactChanged(true, false), generated()),
	}})
	return ws
}

// forSource lists the generators reading a source.
func (r *Reconciler) forSource(ctx context.Context, src client.Object) []ctrl.Request {
	key := sourceKey(sourceref.KindOf(src), src.GetNamespace(), src.GetName())
	return reconcile.Indexed(ctx, r.Client, &swv1.ArtifactGeneratorList{}, client.MatchingFields{sourcesIndex: key})
}

// forExternalArtifact lists the generators reading an ExternalArtifact and
// the one that generated it.
func (r *Reconciler) forExternalArtifact(ctx context.Context, ea client.Object) []ctrl.Request {
	reqs := r.forSource(ctx, ea)
	if uid := ea.GetLabels()[swv1.GeneratorLabel]; uid != "" {
		reqs = append(reqs, reconcile.Indexed(ctx, r.Client, &swv1.ArtifactGeneratorList{},
			client.InNamespace(ea.GetNamespace()), client.MatchingFields{uidIndex: uid})...)
	}
	return reqs
}

// generated passes every change to a generated ExternalArtifact but its
// creation: the generator restores an edit or a deletion.
func generated() predicate.Predicate {
	isGenerated := func(o client.Object) bool { return o != nil && o.GetLabels()[swv1.GeneratorLabel] != "" }
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(e event.DeleteEvent) bool { return isGenerated(e.Object) },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return isGenerated(e.ObjectOld) || isGenerated(e.ObjectNew)
		},
	}
}
