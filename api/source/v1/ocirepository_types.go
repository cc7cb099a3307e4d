package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// OCIRepositoryKind is the kind name of OCIRepository.
const OCIRepositoryKind = "OCIRepository"

// OCIRepositoryPrefix is the scheme every OCIRepository URL starts with.
const OCIRepositoryPrefix = "oci://"

// Values of the provider field of OCIRepository and HelmRepository.
const (
	// GenericOCIProvider authenticates with static credentials only.
	GenericOCIProvider string = "generic"
	// AmazonOCIProvider authenticates to ECR with AWS workload identity.
	AmazonOCIProvider string = "aws"
	// AzureOCIProvider authenticates to ACR with Azure workload identity.
	AzureOCIProvider string = "azure"
	// GoogleOCIProvider authenticates to GAR/GCR with GCP workload identity.
	GoogleOCIProvider string = "gcp"
)

// Values of OCILayerSelector.Operation.
const (
	// OCILayerExtract unpacks the selected layer into the Artifact (default).
	OCILayerExtract string = "extract"
	// OCILayerCopy stores the selected layer's compressed blob as it is.
	OCILayerCopy string = "copy"
)

// OCIRepositorySpec is the desired state of an OCIRepository: which artifact
// and reference to pull, how to authenticate and verify it, and which layer
// to keep.
type OCIRepositorySpec struct {
	// URL of the artifact repository in a container registry, starting with oci://.
	// +kubebuilder:validation:Pattern="^oci://.*$"
	// +required
	URL string `json:"url"`

	// Reference is the tag, semver range or digest to pull. Defaults to the
	// 'latest' tag.
	// +optional
	Reference *OCIRepositoryRef `json:"ref,omitempty"`

	// LayerSelector picks the layer to use. Without it the first layer is
	// extracted.
	// +optional
	LayerSelector *OCILayerSelector `json:"layerSelector,omitempty"`

	// Provider selects how to authenticate to the registry: 'generic' (the
	// default, static credentials), 'aws', 'azure' or 'gcp'.
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// SecretRef names a Secret of type kubernetes.io/dockerconfigjson with
	// the registry credentials.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// Verify turns on signature verification of the pulled artifact.
	// +optional
	Verify *OCIRepositoryVerification `json:"verify,omitempty"`

	// ServiceAccountName is a ServiceAccount whose imagePullSecrets are used
	// to authenticate, or whose workload identity is used with a cloud provider.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret of type Opaque or kubernetes.io/tls with a
	// client certificate ('tls.crt', 'tls.key') and/or a CA ('ca.crt') for
	// the registry connection.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret with the proxy 'address' and optional
	// 'username' and 'password' used to reach the registry.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval between two checks of the registry for a new artifact.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of each registry operation such as a pull. Defaults to 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore replaces the default exclusion rules with rules in .sourceignore
	// (.gitignore) format. Files matching them are left out of the Artifact.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Insecure allows plain HTTP to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Suspend stops reconciliation of this OCIRepository until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OCIRepositoryRef selects the artifact version. Digest wins over SemVer,
// SemVer over Tag.
type OCIRepositoryRef struct {
	// Digest to pull, in the form 'sha256:<hex>'.
	// +optional
	Digest string `json:"digest,omitempty"`

	// SemVer is a semver range; the highest matching tag is pulled.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// SemverFilter is a regular expression that tags must match before the
	// SemVer range is applied.
	// +optional
	SemverFilter string `json:"semverFilter,omitempty"`

	// Tag to pull. Defaults to 'latest'.
	// +optional
	Tag string `json:"tag,omitempty"`
}

// OCILayerSelector picks one layer of the artifact and says what to do with it.
type OCILayerSelector struct {
	// MediaType of the layer to use; the first layer with this type is taken.
	// +optional
	MediaType string `json:"mediaType,omitempty"`

	// Operation is 'extract' (the default: unpack the layer) or 'copy'
	// (store the compressed layer as it is).
	// +kubebuilder:validation:Enum=extract;copy
	// +optional
	Operation string `json:"operation,omitempty"`
}

// OCIRepositoryStatus is the observed state of an OCIRepository.
type OCIRepositoryStatus struct {
	// ObservedGeneration is the last generation of the object the controller acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions holds the conditions of the OCIRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is a stable download address of the latest Artifact.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the output of the last successful reconciliation; its
	// metadata holds the OCI annotations of the pulled manifest.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore value Artifact was built with.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedLayerSelector is the spec.layerSelector value Artifact was built with.
	// +optional
	ObservedLayerSelector *OCILayerSelector `json:"observedLayerSelector,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ocirepo,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// OCIRepository produces an Artifact from an OCI artifact in a container registry.
type OCIRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec OCIRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status OCIRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *OCIRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *OCIRepository) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetRequeueAfter returns spec.interval.
func (in *OCIRepository) GetRequeueAfter() time.Duration { return in.Spec.Interval.Duration }

// GetArtifact returns status.artifact, nil when none was produced yet.
func (in *OCIRepository) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// SetArtifact records a in the status.
func (in *OCIRepository) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// GetLayerOperation returns spec.layerSelector.operation, OCILayerExtract when unset.
func (in *OCIRepository) GetLayerOperation() string {
	if in.Spec.LayerSelector == nil || in.Spec.LayerSelector.Operation == "" {
		return OCILayerExtract
	}
	return in.Spec.LayerSelector.Operation
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *OCIRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *OCIRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *OCIRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *OCIRepository) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *OCIRepository) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// OCIRepositoryList is a list of OCIRepository objects.
type OCIRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OCIRepository `json:"items"`
}
