package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// KustomizationKind is the kind name of Kustomization objects.
const KustomizationKind = "Kustomization"

// Values of spec.deletionPolicy.
const (
	// DeletionPolicyMirrorPrune deletes the applied objects on Kustomization
	// deletion when spec.prune is true, and orphans them otherwise.
	DeletionPolicyMirrorPrune = "MirrorPrune"
	// DeletionPolicyDelete always deletes the applied objects.
	DeletionPolicyDelete = "Delete"
	// DeletionPolicyWaitForTermination deletes the applied objects and waits,
	// bounded by the timeout, until they are gone.
	DeletionPolicyWaitForTermination = "WaitForTermination"
	// DeletionPolicyOrphan leaves the applied objects in the cluster.
	DeletionPolicyOrphan = "Orphan"
)

// minTimeout is the smallest timeout GetTimeout returns, and the margin it
// keeps below the interval when spec.timeout is unset.
const minTimeout = 30 * time.Second

// KustomizationSpec is the desired state of a Kustomization: where the
// manifests come from, how they are built and how they are applied.
type KustomizationSpec struct {
	// SourceRef names the source object (GitRepository, OCIRepository,
	// Bucket or ExternalArtifact) whose artifact holds the manifests.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// Path is the directory inside the artifact to build. A
	// kustomization.yaml is generated when the directory has none. Defaults
	// to the root of the artifact.
	// +optional
	Path string `json:"path,omitempty"`

	// Interval is how often the Kustomization is reconciled, which also
	// corrects drift in the cluster. A small jitter may be added.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// RetryInterval is how soon a failed reconciliation is retried.
	// Defaults to Interval.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// Timeout bounds the build, apply and health-check steps. Defaults to
	// Interval minus 30s, and is never less than 30s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Prune deletes the objects that were applied before but are no longer
	// part of the build.
	// +required
	Prune bool `json:"prune"`

	// DeletionPolicy says what happens to the applied objects when the
	// Kustomization is deleted: MirrorPrune (default; delete when Prune is
	// true), Delete, WaitForTermination or Orphan.
	// +kubebuilder:validation:Enum=MirrorPrune;Delete;WaitForTermination;Orphan
	// +optional
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// DependsOn lists Kustomizations that must be ready before this one is
	// reconciled.
	// +optional
	DependsOn []meta.DependencyReference `json:"dependsOn,omitempty"`

	// HealthChecks lists objects whose readiness decides the Healthy
	// condition. Ignored when Wait is true.
	// +optional
	HealthChecks []meta.NamespacedObjectKindReference `json:"healthChecks,omitempty"`

	// HealthCheckExprs are CEL expressions that tell the health of custom
	// resources. They are used only when Wait or HealthChecks is set.
	// +optional
	HealthCheckExprs []meta.CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// Wait health-checks every applied object; HealthChecks is then ignored.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// Force recreates objects whose update fails on an immutable field.
	// +kubebuilder:default:=false
	// +optional
	Force bool `json:"force,omitempty"`

	// ServiceAccountName is the service account, in the Kustomization's
	// namespace, impersonated to apply and prune.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// KubeConfig points to a remote cluster to apply to instead of the local
	// one. Combined with ServiceAccountName, that account is impersonated in
	// the remote cluster.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// TargetNamespace sets or overrides the namespace of every namespaced
	// object of the build.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Optional
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// NamePrefix is prepended to the name of every object of the build.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Optional
	// +optional
	NamePrefix string `json:"namePrefix,omitempty"`

	// NameSuffix is appended to the name of every object of the build.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Optional
	// +optional
	NameSuffix string `json:"nameSuffix,omitempty"`

	// CommonMetadata holds labels and annotations set on every applied
	// object, replacing existing values of the same keys.
	// +optional
	CommonMetadata *meta.CommonMetadata `json:"commonMetadata,omitempty"`

	// Patches are inline strategic-merge or JSON6902 patches, each applied
	// to the objects its target selects.
	// +optional
	Patches []meta.Patch `json:"patches,omitempty"`

	// Images override image names, tags or digests in the build.
	// +optional
	Images []meta.Image `json:"images,omitempty"`

	// Components are paths, relative to Path, of kustomize components to
	// include.
	// +optional
	Components []string `json:"components,omitempty"`

	// IgnoreMissingComponents drops the Components paths that do not exist
	// in the artifact instead of failing the build.
	// +optional
	IgnoreMissingComponents bool `json:"ignoreMissingComponents,omitempty"`

	// BuildMetadata selects the kustomize build annotations added to the
	// objects: originAnnotations and/or transformerAnnotations.
	// +optional
	BuildMetadata []BuildMetadataOption `json:"buildMetadata,omitempty"`

	// PostBuild configures variable substitution on the built manifests.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// Decryption configures the decryption of SOPS-encrypted Secrets and
	// files before they are applied.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// Ignore lists fields that are left out of drift detection and apply.
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`

	// Suspend stops further reconciliations; one already running finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ks,categories={all,fluxcd,fluxcd-appliers}
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""

// Kustomization builds manifests from a source artifact with kustomize and
// keeps them applied to a cluster.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec KustomizationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status KustomizationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// KustomizationList is a list of Kustomizations.
type KustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Kustomization `json:"items"`
}

// GetConditions returns the status conditions.
func (in *Kustomization) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *Kustomization) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns spec.interval, the period between reconciliations.
func (in *Kustomization) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetDependsOn returns spec.dependsOn: the Kustomizations to wait for.
func (in *Kustomization) GetDependsOn() []meta.DependencyReference { return in.Spec.DependsOn }

// GetRetryInterval returns spec.retryInterval, or spec.interval when unset.
func (in *Kustomization) GetRetryInterval() time.Duration {
	if in.Spec.RetryInterval != nil {
		return in.Spec.RetryInterval.Duration
	}
	return in.GetRequeueAfter()
}

// GetTimeout returns spec.timeout, or spec.interval minus 30s when unset;
// the result is never less than 30s.
func (in *Kustomization) GetTimeout() time.Duration {
	timeout := in.Spec.Interval.Duration - minTimeout
	if in.Spec.Timeout != nil {
		timeout = in.Spec.Timeout.Duration
	}
	return max(timeout, minTimeout)
}

// GetDeletionPolicy returns spec.deletionPolicy, MirrorPrune when unset.
func (in *Kustomization) GetDeletionPolicy() string {
	if in.Spec.DeletionPolicy == "" {
		return DeletionPolicyMirrorPrune
	}
	return in.Spec.DeletionPolicy
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *Kustomization) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *Kustomization) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *Kustomization) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *Kustomization) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *Kustomization) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}
