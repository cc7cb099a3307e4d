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

// ReconcileTriggers passes what should make a Flux object reconcile: a new
// generation or a new reconcile request (plus creations and deletions).
func ReconcileTriggers() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, RequestedAtChanged{})
}
