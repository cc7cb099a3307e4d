package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// KustomizationStatus is the observed state of a Kustomization.
type KustomizationStatus struct {
	meta.ReconcileRequestStatus `json:",inline"`

	// ObservedGeneration is the last generation the controller reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions tell the state of the last reconciliation.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the source artifact revision last applied with
	// success.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAppliedOriginRevision is the origin revision recorded in the
	// metadata of the artifact last applied with success, e.g. the
	// org.opencontainers.image.revision annotation of an OCI artifact.
	// +optional
	LastAppliedOriginRevision string `json:"lastAppliedOriginRevision,omitempty"`

	// LastAttemptedRevision is the source artifact revision of the last
	// reconciliation attempt.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// Inventory lists the objects applied with success.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`

	// History keeps snapshots of the last reconciliations, newest first.
	// +optional
	History []Snapshot `json:"history,omitempty"`
}

// ResourceInventory is the set of objects a reconciliation applied.
type ResourceInventory struct {
	// Entries are the applied objects.
	// +required
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one applied object.
type ResourceRef struct {
	// ID is '<namespace>_<name>_<group>_<kind>'; the namespace is empty for
	// cluster-scoped objects.
	// +required
	ID string `json:"id"`

	// Version is the API version of the object's kind.
	// +required
	Version string `json:"v"`
}

// Snapshot records the reconciliations of one build: its digest, when it
// was first and last reconciled, how it went and how often.
type Snapshot struct {
	// Digest is '<algo>:<hex>' of the built manifests.
	// +required
	Digest string `json:"digest"`

	// FirstReconciled is when this build was first reconciled.
	// +required
	FirstReconciled metav1.Time `json:"firstReconciled"`

	// LastReconciled is when this build was last reconciled.
	// +required
	LastReconciled metav1.Time `json:"lastReconciled"`

	// LastReconciledDuration is how long the last reconciliation took.
	// +required
	LastReconciledDuration metav1.Duration `json:"lastReconciledDuration"`

	// LastReconciledStatus is the outcome of the last reconciliation.
	// +required
	LastReconciledStatus string `json:"lastReconciledStatus"`

	// TotalReconciliations counts the reconciliations of this build.
	// +required
	TotalReconciliations int64 `json:"totalReconciliations"`

	// Metadata holds extra facts about the build, such as the source
	// revision and origin revision.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}
