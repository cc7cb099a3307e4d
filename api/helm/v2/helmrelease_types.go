package v2

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// HelmReleaseKind is the kind name of HelmRelease objects.
const HelmReleaseKind = "HelmRelease"

// Defaults applied by the accessors when the spec leaves a field unset.
const (
	// DefaultTimeout bounds each Kubernetes operation of a Helm action.
	DefaultTimeout = 5 * time.Minute
	// DefaultMaxHistory is the number of release revisions Helm keeps.
	DefaultMaxHistory = 5
)

// Helm limits release names to 53 characters. A longer default name is cut
// to shortNameLength characters and suffixed with '-' and shortHashLength
// hex characters of its SHA-256 digest.
const (
	maxReleaseNameLength = 53
	shortHashLength      = 12
	shortNameLength      = maxReleaseNameLength - shortHashLength - 1
)

// HelmReleaseSpec is the desired state of a Helm release.
// +kubebuilder:validation:XValidation:rule="(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",message="either chart or chartRef must be set"
type HelmReleaseSpec struct {
	// Chart is the template of the HelmChart the controller creates, in the
	// namespace of the chart source, to fetch the chart. Exactly one of
	// Chart and ChartRef must be set.
	// +optional
	Chart *HelmChartTemplate `json:"chart,omitempty"`

	// ChartRef names an existing source object (OCIRepository, HelmChart or
	// ExternalArtifact) whose artifact is the chart. Exactly one of Chart and
	// ChartRef must be set.
	// +optional
	ChartRef *CrossNamespaceSourceReference `json:"chartRef,omitempty"`

	// Interval is how often the release is reconciled. A small jitter may be
	// added.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// KubeConfig points to a remote cluster to release to instead of the
	// local one. Combined with ServiceAccountName, that account is
	// impersonated in the remote cluster.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// Suspend stops further reconciliations; one already running finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ReleaseName is the name of the Helm release. Defaults to
	// '[TargetNamespace-]Name', shortened with a hash suffix when longer
	// than 53 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=53
	// +kubebuilder:validation:Optional
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`

	// TargetNamespace is the namespace the release is installed into.
	// Defaults to the namespace of the HelmRelease.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Optional
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// StorageNamespace is the namespace where Helm keeps the release
	// records. Defaults to the namespace of the HelmRelease.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Optional
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// DependsOn lists HelmReleases that must be ready before this one is
	// reconciled.
	// +optional
	DependsOn []meta.DependencyReference `json:"dependsOn,omitempty"`

	// Timeout bounds each Kubernetes operation (such as hook Jobs) of a Helm
	// action. Defaults to 5m0s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// MaxHistory is the number of release revisions Helm keeps; 0 keeps
	// all of them. Defaults to 5.
	// +optional
	MaxHistory *int `json:"maxHistory,omitempty"`

	// ServiceAccountName is the service account, in the HelmRelease's
	// namespace, impersonated to run the Helm actions.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// PersistentClient reuses one Kubernetes client for a whole
	// reconciliation instead of one per Helm action. Faster, but charts that
	// create CRDs outside Helm's CRD handling may then fail their hooks.
	// Defaults to true.
	// +optional
	PersistentClient *bool `json:"persistentClient,omitempty"`

	// DriftDetection configures how changes made in the cluster to the
	// released objects are detected and corrected.
	// +optional
	DriftDetection *DriftDetection `json:"driftDetection,omitempty"`

	// Install configures Helm install actions.
	// +optional
	Install *Install `json:"install,omitempty"`

	// Upgrade configures Helm upgrade actions.
	// +optional
	Upgrade *Upgrade `json:"upgrade,omitempty"`

	// Test configures the Helm tests run after an install or upgrade.
	// +optional
	Test *Test `json:"test,omitempty"`

	// Rollback configures Helm rollback actions.
	// +optional
	Rollback *Rollback `json:"rollback,omitempty"`

	// Uninstall configures Helm uninstall actions.
	// +optional
	Uninstall *Uninstall `json:"uninstall,omitempty"`

	// ValuesFrom lists ConfigMaps and Secrets holding values, merged in
	// order; later entries win, Values wins over all of them, and entries
	// with a targetPath win over everything.
	// +optional
	ValuesFrom []meta.ValuesReference `json:"valuesFrom,omitempty"`

	// Values are the inline values of the release.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Values *apiextensionsv1.JSON `json:"values,omitempty"`

	// CommonMetadata holds labels and annotations set on every object the
	// chart renders.
	// +optional
	CommonMetadata *meta.CommonMetadata `json:"commonMetadata,omitempty"`

	// PostRenderers change the rendered manifests, applied in order.
	// +optional
	PostRenderers []PostRenderer `json:"postRenderers,omitempty"`

	// PostRenderStrategy says how Helm hooks go through the post-renderers:
	// nohooks (not at all, the Helm 3 way), combined (with the other
	// templates) or separate (in their own stream). Defaults to combined.
	// +kubebuilder:validation:Enum=nohooks;combined;separate
	// +optional
	PostRenderStrategy string `json:"postRenderStrategy,omitempty"`

	// WaitStrategy chooses how the controller waits for released objects to
	// become ready.
	// +optional
	WaitStrategy *WaitStrategy `json:"waitStrategy,omitempty"`

	// HealthCheckExprs are CEL expressions that tell the health of custom
	// resources. They are used only while waiting with the poller strategy.
	// +optional
	HealthCheckExprs []meta.CustomHealthCheck `json:"healthCheckExprs,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hr,categories={all,fluxcd,fluxcd-appliers}
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""

// HelmRelease keeps a Helm chart released to a cluster with the given
// values, and remediates failed releases.
type HelmRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HelmReleaseSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmReleaseStatus `json:"status,omitempty"`
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *HelmRelease) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmRelease) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *HelmRelease) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *HelmRelease) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *HelmRelease) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// HelmReleaseList is a list of HelmReleases.
type HelmReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmRelease `json:"items"`
}

// GetConditions returns the status conditions.
func (in *HelmRelease) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *HelmRelease) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns spec.interval, the period between reconciliations.
func (in *HelmRelease) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetDependsOn returns spec.dependsOn: the HelmReleases to wait for.
func (in *HelmRelease) GetDependsOn() []meta.DependencyReference { return in.Spec.DependsOn }

// GetReleaseName returns spec.releaseName or, when unset,
// '[<targetNamespace>-]<name>'. A default longer than 53 characters becomes
// its first 40 characters, '-' and the first 12 hex characters of its
// SHA-256 digest.
func (in *HelmRelease) GetReleaseName() string {
	if in.Spec.ReleaseName != "" {
		return in.Spec.ReleaseName
	}
	name := in.Name
	if in.Spec.TargetNamespace != "" {
		name = in.Spec.TargetNamespace + "-" + in.Name
	}
	if len(name) <= maxReleaseNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:shortNameLength] + "-" + hex.EncodeToString(sum[:])[:shortHashLength]
}

// GetReleaseNamespace returns spec.targetNamespace, or the namespace of the
// HelmRelease when unset.
func (in *HelmRelease) GetReleaseNamespace() string {
	if in.Spec.TargetNamespace != "" {
		return in.Spec.TargetNamespace
	}
	return in.Namespace
}

// GetStorageNamespace returns spec.storageNamespace, or the namespace of the
// HelmRelease when unset.
func (in *HelmRelease) GetStorageNamespace() string {
	if in.Spec.StorageNamespace != "" {
		return in.Spec.StorageNamespace
	}
	return in.Namespace
}

// GetTimeout returns spec.timeout, DefaultTimeout when unset.
func (in *HelmRelease) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil {
		return in.Spec.Timeout.Duration
	}
	return DefaultTimeout
}

// GetMaxHistory returns spec.maxHistory, DefaultMaxHistory when unset.
func (in *HelmRelease) GetMaxHistory() int {
	if in.Spec.MaxHistory != nil {
		return *in.Spec.MaxHistory
	}
	return DefaultMaxHistory
}

// UsePersistentClient returns spec.persistentClient, true when unset.
func (in *HelmRelease) UsePersistentClient() bool {
	return in.Spec.PersistentClient == nil || *in.Spec.PersistentClient
}

// GetHelmChartName returns the name of the HelmChart generated from
// spec.chart: '<namespace>-<name>' of the HelmRelease.
func (in *HelmRelease) GetHelmChartName() string {
	return in.Namespace + "-" + in.Name
}
