package v1beta1

import (
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// requeueAfter is how often an ArtifactGenerator is rebuilt when no source
// changes: the kind has no spec.interval, and Flux checks hourly.
const requeueAfter = time.Hour

// GetConditions returns the status conditions.
func (in *ArtifactGenerator) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ArtifactGenerator) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetRequeueAfter returns one hour: sources are watched, so this only
// bounds how long a missed change can go unnoticed.
func (in *ArtifactGenerator) GetRequeueAfter() time.Duration { return requeueAfter }

// IsSuspended reports whether the annotation
// source.extensions.fluxcd.io/reconcile is "disabled" (any case): Flux's
// ArtifactGenerator is suspended by annotation, it has no spec.suspend.
func (in *ArtifactGenerator) IsSuspended() bool {
	v, ok := in.GetAnnotations()[ReconcileAnnotation]
	return ok && strings.EqualFold(v, ReconcileDisabledValue)
}

// GetObservedGeneration returns the generation the Ready condition was
// written for, 0 before the first one. Flux's ArtifactGenerator has no
// status.observedGeneration and Driftless adds no status field Flux lacks,
// so the Ready condition, which carries its generation, stands in for it.
func (in *ArtifactGenerator) GetObservedGeneration() int64 {
	if c := apimeta.FindStatusCondition(in.Status.Conditions, meta.ReadyCondition); c != nil {
		return c.ObservedGeneration
	}
	return 0
}

// SetObservedGeneration records g on the Ready condition, the stand-in for
// status.observedGeneration (see GetObservedGeneration). Without a Ready
// condition there is nothing that describes generation g yet, and it does
// nothing.
func (in *ArtifactGenerator) SetObservedGeneration(g int64) {
	for i := range in.Status.Conditions {
		if in.Status.Conditions[i].Type == meta.ReadyCondition {
			in.Status.Conditions[i].ObservedGeneration = g
		}
	}
}

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ArtifactGenerator) GetLastHandledReconcileRequest() string {
	return in.Status.GetLastHandledReconcileRequest()
}

// SetLastHandledReconcileRequest sets status.lastHandledReconcileAt.
func (in *ArtifactGenerator) SetLastHandledReconcileRequest(v string) {
	in.Status.SetLastHandledReconcileRequest(v)
}

// SourceNamespace returns the namespace of a source reference: its own, or
// the generator's when empty.
func (in *ArtifactGenerator) SourceNamespace(ref SourceReference) string {
	if ref.Namespace != "" {
		return ref.Namespace
	}
	return in.GetNamespace()
}
