package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// HelmRepositoryKind is the kind name of HelmRepository.
const HelmRepositoryKind = "HelmRepository"

// Values of HelmRepositorySpec.Type.
const (
	// HelmRepositoryTypeDefault is an HTTP/S repository serving an index.yaml.
	HelmRepositoryTypeDefault string = "default"
	// HelmRepositoryTypeOCI is an OCI registry; the object then only carries
	// connection settings for HelmCharts and produces no Artifact.
	HelmRepositoryTypeOCI string = "oci"
)

// defaultHelmRepositoryInterval and defaultHelmRepositoryTimeout apply when
// the optional spec fields are empty.
const (
	defaultHelmRepositoryInterval = time.Minute
	defaultHelmRepositoryTimeout  = time.Minute
)

// HelmRepositorySpec is the desired state of a HelmRepository: where the
// charts are and how to reach them.
type HelmRepositorySpec struct {
	// URL of the repository: http://, https:// or, with type 'oci', oci://.
	// +kubebuilder:validation:Pattern="^(http|https|oci)://.*$"
	// +required
	URL string `json:"url"`

	// SecretRef names a Secret with the credentials: 'username' and
	// 'password' for basic auth (the TLS keys 'certFile', 'keyFile' and
	// 'caFile' are deprecated in favour of certSecretRef).
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret of type Opaque or kubernetes.io/tls with a
	// client certificate ('tls.crt', 'tls.key') and/or a CA ('ca.crt'). It
	// takes precedence over TLS keys in secretRef.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// PassCredentials sends the secretRef credentials also to hosts other
	// than the one in URL, e.g. when the index points charts to another
	// host. Use with care: credentials may leak to those hosts.
	// +optional
	PassCredentials bool `json:"passCredentials,omitempty"`

	// Interval between two downloads of the repository index.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`

	// Insecure allows plain HTTP to an OCI registry; used only with type 'oci'.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Timeout of the index download, and of chart pulls from an OCI
	// repository by HelmCharts. Defaults to 60s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Suspend stops reconciliation of this HelmRepository until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// AccessFrom is an access list for references from other namespaces.
	// Accepted for compatibility; not enforced.
	// +optional
	AccessFrom *meta.AccessFrom `json:"accessFrom,omitempty"`

	// Type is 'default' (HTTP/S index) or 'oci' (the URL must start with oci://).
	// +kubebuilder:validation:Enum=default;oci
	// +optional
	Type string `json:"type,omitempty"`

	// Provider selects how to authenticate to an OCI registry: 'generic' (the
	// default), 'aws', 'azure' or 'gcp'. Used only with type 'oci'.
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`
}

// HelmRepositoryStatus is the observed state of a HelmRepository.
type HelmRepositoryStatus struct {
	// ObservedGeneration is the last generation of the object the controller acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions holds the conditions of the HelmRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is a stable download address of the latest index.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the stored index of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=helmrepo,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// HelmRepository is a Helm chart repository: an HTTP/S index, whose index
// becomes the Artifact, or an OCI registry.
type HelmRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HelmRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *HelmRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *HelmRepository) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetRequeueAfter returns spec.interval, one minute when it is unset.
func (in *HelmRepository) GetRequeueAfter() time.Duration {
	if in.Spec.Interval.Duration != 0 {
		return in.Spec.Interval.Duration
	}
	return defaultHelmRepositoryInterval
}

// GetTimeout returns spec.timeout, one minute when it is unset.
func (in *HelmRepository) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil {
		return in.Spec.Timeout.Duration
	}
	return defaultHelmRepositoryTimeout
}

// GetArtifact returns status.artifact, nil when none was produced yet.
func (in *HelmRepository) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// SetArtifact records a in the status.
func (in *HelmRepository) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *HelmRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *HelmRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *HelmRepository) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *HelmRepository) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// HelmRepositoryList is a list of HelmRepository objects.
type HelmRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmRepository `json:"items"`
}
