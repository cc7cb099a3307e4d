package v2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ReleaseAction is a Helm action that makes a release.
type ReleaseAction string

// Values of status.lastAttemptedReleaseAction.
const (
	ReleaseActionInstall ReleaseAction = "install"
	ReleaseActionUpgrade ReleaseAction = "upgrade"
)

// HelmReleaseStatus is the observed state of a HelmRelease.
type HelmReleaseStatus struct {
	meta.ReconcileRequestStatus `json:",inline"`

	// ObservedGeneration is the last generation the controller reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedPostRenderersDigest is the digest of the post-renderers of the
	// last successful reconciliation.
	// +optional
	ObservedPostRenderersDigest string `json:"observedPostRenderersDigest,omitempty"`

	// ObservedCommonMetadataDigest is the digest of the common metadata of
	// the last successful reconciliation.
	// +optional
	ObservedCommonMetadataDigest string `json:"observedCommonMetadataDigest,omitempty"`

	// LastAttemptedGeneration is the last generation the controller tried
	// to reconcile.
	// +optional
	LastAttemptedGeneration int64 `json:"lastAttemptedGeneration,omitempty"`

	// Conditions tell the state of the last reconciliation.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// HelmChart is '<namespace>/<name>' of the HelmChart generated from
	// spec.chart.
	// +optional
	HelmChart string `json:"helmChart,omitempty"`

	// StorageNamespace is the namespace of the Helm records of the current
	// release.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Optional
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// History holds snapshots of the releases made, newest first, back to
	// the last successful one.
	// +optional
	History []Snapshot `json:"history,omitempty"`

	// Inventory lists the objects of the release, chart CRDs included and
	// hooks excluded.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`

	// LastAttemptedReleaseAction is the last release action tried; it
	// selects which remediation settings apply.
	// +kubebuilder:validation:Enum=install;upgrade
	// +optional
	LastAttemptedReleaseAction ReleaseAction `json:"lastAttemptedReleaseAction,omitempty"`

	// LastAttemptedReleaseActionDuration is how long the last release
	// action took.
	// +optional
	LastAttemptedReleaseActionDuration *metav1.Duration `json:"lastAttemptedReleaseActionDuration,omitempty"`

	// Failures counts failed reconciliations of the current desired state.
	// +optional
	Failures int64 `json:"failures,omitempty"`

	// InstallFailures counts failed installs of the current desired state.
	// +optional
	InstallFailures int64 `json:"installFailures,omitempty"`

	// UpgradeFailures counts failed upgrades of the current desired state.
	// +optional
	UpgradeFailures int64 `json:"upgradeFailures,omitempty"`

	// LastAttemptedRevision is the chart version of the last attempt; for
	// OCIRepository sources the first 12 characters of the artifact digest
	// are appended, e.g. '1.2.3+1234567890ab'.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAttemptedRevisionDigest is the artifact digest of the last
	// attempt, for OCIRepository sources only.
	// +optional
	LastAttemptedRevisionDigest string `json:"lastAttemptedRevisionDigest,omitempty"`

	// LastAttemptedValuesChecksum is the SHA-1 of the values of the last
	// attempt.
	//
	// Deprecated: use LastAttemptedConfigDigest.
	// +optional
	LastAttemptedValuesChecksum string `json:"lastAttemptedValuesChecksum,omitempty"`

	// LastReleaseRevision is the revision of the last successful release.
	//
	// Deprecated: use History.
	// +optional
	LastReleaseRevision int `json:"lastReleaseRevision,omitempty"`

	// LastAttemptedConfigDigest is the digest of the values of the last
	// attempt.
	// +optional
	LastAttemptedConfigDigest string `json:"lastAttemptedConfigDigest,omitempty"`

	// LastHandledForceAt is the last reconcile.fluxcd.io/forceAt value
	// handled.
	// +optional
	LastHandledForceAt string `json:"lastHandledForceAt,omitempty"`

	// LastHandledResetAt is the last reconcile.fluxcd.io/resetAt value
	// handled.
	// +optional
	LastHandledResetAt string `json:"lastHandledResetAt,omitempty"`
}

// Snapshot records one Helm release made by the controller.
type Snapshot struct {
	// APIVersion is the version of the snapshot format; it tells how Digest
	// was computed.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Digest is '<algo>:<checksum>' of the release record in storage.
	// +required
	Digest string `json:"digest"`

	// Name is the release name.
	// +required
	Name string `json:"name"`

	// Namespace is the namespace the release is installed into.
	// +required
	Namespace string `json:"namespace"`

	// Version is the revision of the release record.
	// +required
	Version int `json:"version"`

	// Status is the Helm status of the release, e.g. deployed or failed.
	// +required
	Status string `json:"status"`

	// Action is the Helm action that made the release.
	// +optional
	Action string `json:"action,omitempty"`

	// ChartName is the name of the released chart.
	// +required
	ChartName string `json:"chartName"`

	// ChartVersion is the version of the released chart.
	// +required
	ChartVersion string `json:"chartVersion"`

	// AppVersion is the app version of the released chart.
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// ConfigDigest is '<algo>:<checksum>' of the release values.
	// +required
	ConfigDigest string `json:"configDigest"`

	// FirstDeployed is when the release was first deployed.
	// +required
	FirstDeployed metav1.Time `json:"firstDeployed"`

	// LastDeployed is when the release was last deployed.
	// +required
	LastDeployed metav1.Time `json:"lastDeployed"`

	// Deleted is when the release was uninstalled.
	// +optional
	Deleted *metav1.Time `json:"deleted,omitempty"`

	// TestHooks are the test hooks the controller saw run, by name. Set but
	// empty when the chart has no tests; unset when tests did not run.
	// +optional
	TestHooks *map[string]*TestHookStatus `json:"testHooks,omitempty"`

	// OCIDigest is the digest of the OCI artifact the chart came from.
	// +optional
	OCIDigest string `json:"ociDigest,omitempty"`
}

// TestHookStatus is the observed run of one test hook.
type TestHookStatus struct {
	// LastStarted is when the hook last started.
	// +optional
	LastStarted *metav1.Time `json:"lastStarted,omitempty"`

	// LastCompleted is when the hook last completed.
	// +optional
	LastCompleted *metav1.Time `json:"lastCompleted,omitempty"`

	// Phase is the phase the hook was seen in, e.g. Succeeded or Failed.
	// +optional
	Phase string `json:"phase,omitempty"`
}

// ResourceInventory is the set of objects of a release.
type ResourceInventory struct {
	// Entries are the objects of the release.
	// +required
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one object of a release.
type ResourceRef struct {
	// ID is '<namespace>_<name>_<group>_<kind>'; the namespace is empty for
	// cluster-scoped objects.
	// +required
	ID string `json:"id"`

	// Version is the API version of the object's kind.
	// +required
	Version string `json:"v"`
}
