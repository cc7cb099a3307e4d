package reconcile

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/driftless/driftless/api/meta"
)

// requestedAt returns the value of the reconcile request annotation, or
// fallback when the object has none.
func requestedAt(obj client.Object, fallback string) string {
	if v, ok := obj.GetAnnotations()[meta.ReconcileRequestAnnotation]; ok {
		return v
	}
	return fallback
}

// RequestedAtChanged passes updates that change the value of
// reconcile.fluxcd.io/requestedAt: the on-demand reconcile protocol.
type RequestedAtChanged struct {
	predicate.Funcs
}

// Update implements predicate.Predicate.
func (RequestedAtChanged) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	return requestedAt(e.ObjectNew, "") != requestedAt(e.ObjectOld, "")
}

// SuspendChanged passes updates that suspend or resume an object. For most
// kinds that is spec.suspend, a new generation anyway; an
// ArtifactGenerator is suspended by annotation, which is not.
type SuspendChanged struct {
	predicate.Funcs
}

// Update implements predicate.Predicate.
func (SuspendChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(meta.Object)
	n, ok2 := e.ObjectNew.(meta.Object)
	return ok1 && ok2 && o.IsSuspended() != n.IsSuspended()
}

// ReconcileTriggers passes what should make a Flux object reconcile: a new
// generation, a new reconcile request, a suspension lifted (plus creations
// and deletions).
func ReconcileTriggers() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, RequestedAtChanged{}, SuspendChanged{})
}
