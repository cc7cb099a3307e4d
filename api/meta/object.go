package meta

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Conditioned is an object with status conditions.
//
// +kubebuilder:object:generate=false
type Conditioned interface {
	GetGeneration() int64
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// Object is the accessor every Driftless kind implements: a Kubernetes
// object with the status fields every kind shares. The reconcile skeleton
// reconciles it and the command line reads it. It is spelled with
// apimachinery's interfaces rather than controller-runtime's client.Object
// (which is exactly metav1.Object plus runtime.Object), so that api/ and the
// command line do not depend on controller-runtime for it.
//
// +kubebuilder:object:generate=false
type Object interface {
	metav1.Object
	runtime.Object
	Conditioned
	GetRequeueAfter() time.Duration
	IsSuspended() bool
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
	GetLastHandledReconcileRequest() string
	SetLastHandledReconcileRequest(string)
}
