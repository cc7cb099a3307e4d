package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ImageRepositoryKind is the kind name of ImageRepository objects.
const ImageRepositoryKind = "ImageRepository"

// DefaultExclusionPattern is the one entry of the default spec.exclusionList:
// it drops cosign signature tags.
const DefaultExclusionPattern = "^.*\\.sig$"

// Registry authentication providers of an ImageRepository.
const (
	GenericRegistryProvider string = "generic"
	AWSRegistryProvider     string = "aws"
	AzureRegistryProvider   string = "azure"
	GCPRegistryProvider     string = "gcp"
)

// ImageRepositorySpec says which image repository to scan for tags, and how.
type ImageRepositorySpec struct {
	// Image is the image repository to scan, without scheme or tag, e.g.
	// 'ghcr.io/org/app' or 'alpine'.
	// +required
	Image string `json:"image,omitempty"`

	// Interval between two scans of the repository.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval,omitempty"`

	// Timeout of a scan; defaults to Interval.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a docker-registry Secret with the registry credentials.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ProxySecretRef names a Secret with the proxy 'address' and optional
	// 'username' and 'password' used to reach the registry.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// ServiceAccountName is a ServiceAccount whose image pull secrets (or
	// workload identity, with Provider set) authenticate to the registry.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with TLS material for the registry:
	// 'ca.crt' to trust a private CA, 'tls.crt' and 'tls.key' for client
	// certificate authentication. Its type must be Opaque or
	// kubernetes.io/tls.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// Suspend stops further scans while true; a running scan completes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// AccessFrom lists the namespaces, by label, whose ImagePolicies may
	// refer to this ImageRepository.
	// +optional
	AccessFrom *meta.AccessFrom `json:"accessFrom,omitempty"`

	// ExclusionList holds regular expressions; matching tags are not stored.
	// +kubebuilder:default:={"^.*\\.sig$"}
	// +kubebuilder:validation:MaxItems:=25
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// Provider selects cloud authentication to the registry: 'aws' (ECR),
	// 'azure' (ACR), 'gcp' (GCR/Artifact Registry) or 'generic' (none).
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// Insecure allows a registry served over plain HTTP.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// ScanResult describes the last scan of an image repository.
type ScanResult struct {
	// Revision is a stable hash of the tags found.
	// +optional
	Revision string `json:"revision"`

	// TagCount is the number of tags found.
	// +required
	TagCount int `json:"tagCount"`

	// ScanTime is when the scan ran.
	// +optional
	ScanTime metav1.Time `json:"scanTime"`

	// LatestTags is a sample of the tags found: the first ten in descending
	// alphabetical order.
	// +optional
	LatestTags []string `json:"latestTags,omitempty"`
}

// ImageRepositoryStatus is the observed state of an ImageRepository.
type ImageRepositoryStatus struct {
	// Conditions holds the conditions of the ImageRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the last generation the controller handled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// CanonicalImageName is the image with every implied part explicit,
	// e.g. 'docker.io/library/alpine' for 'alpine'.
	// +optional
	CanonicalImageName string `json:"canonicalImageName,omitempty"`

	// LastScanResult describes the last successful scan.
	// +optional
	LastScanResult *ScanResult `json:"lastScanResult,omitempty"`

	// ObservedExclusionList is the exclusion list LastScanResult was
	// computed with.
	// +optional
	ObservedExclusionList []string `json:"observedExclusionList,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgrepo;imagerepo,categories=all;fluxcd;fluxcd-images
// +kubebuilder:printcolumn:name="Image",type="string",JSONPath=".spec.image"
// +kubebuilder:printcolumn:name="Tags",type="string",JSONPath=".status.lastScanResult.tagCount"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:printcolumn:name="Last scan",type="string",JSONPath=".status.lastScanResult.scanTime",priority=1
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// ImageRepository scans a container image repository for tags at an
// interval, so ImagePolicies can pick from them.
type ImageRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImageRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImageRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the ImageRepository.
func (in *ImageRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the conditions of the ImageRepository.
func (in *ImageRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns spec.interval.
func (in *ImageRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or spec.interval when unset, and never
// less than one second.
func (in *ImageRepository) GetTimeout() time.Duration {
	d := in.Spec.Interval.Duration
	if in.Spec.Timeout != nil {
		d = in.Spec.Timeout.Duration
	}
	return max(d, time.Second)
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *ImageRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *ImageRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *ImageRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ImageRepository) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *ImageRepository) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// ImageRepositoryList is a list of ImageRepositories.
type ImageRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageRepository `json:"items"`
}
