package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// BucketKind is the kind name of Bucket.
const BucketKind = "Bucket"

// Values of BucketSpec.Provider.
const (
	// BucketProviderGeneric is any S3-compatible object store (MinIO, ...).
	BucketProviderGeneric string = "generic"
	// BucketProviderAmazon is AWS S3, with static or workload identity credentials.
	BucketProviderAmazon string = "aws"
	// BucketProviderGoogle is Google Cloud Storage.
	BucketProviderGoogle string = "gcp"
	// BucketProviderAzure is Azure Blob Storage.
	BucketProviderAzure string = "azure"
)

// Values of BucketSTSSpec.Provider.
const (
	// STSProviderAmazon fetches temporary credentials from AWS STS.
	STSProviderAmazon string = "aws"
	// STSProviderLDAP fetches temporary credentials from a MinIO LDAP STS.
	STSProviderLDAP string = "ldap"
)

// BucketSpec is the desired state of a Bucket: which object store bucket to
// download and how to authenticate.
// +kubebuilder:validation:XValidation:rule="self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",message="STS configuration is only supported for the 'aws' and 'generic' Bucket providers"
// +kubebuilder:validation:XValidation:rule="self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",message="'aws' is the only supported STS provider for the 'aws' Bucket provider"
// +kubebuilder:validation:XValidation:rule="self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",message="'ldap' is the only supported STS provider for the 'generic' Bucket provider"
// +kubebuilder:validation:XValidation:rule="!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",message="spec.sts.secretRef is not required for the 'aws' STS provider"
// +kubebuilder:validation:XValidation:rule="!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",message="spec.sts.certSecretRef is not required for the 'aws' STS provider"
// +kubebuilder:validation:XValidation:rule="self.provider != 'generic' || !has(self.serviceAccountName)",message="ServiceAccountName is not supported for the 'generic' Bucket provider"
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !has(self.serviceAccountName)",message="cannot set both .spec.secretRef and .spec.serviceAccountName"
type BucketSpec struct {
	// Provider of the object store: 'generic' (S3-compatible, the default),
	// 'aws', 'gcp' or 'azure'.
	// +kubebuilder:validation:Enum=generic;aws;gcp;azure
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// BucketName is the name of the bucket to download.
	// +required
	BucketName string `json:"bucketName"`

	// Endpoint is the address of the object store, without scheme.
	// +required
	Endpoint string `json:"endpoint"`

	// STS fetches temporary credentials from a Security Token Service.
	// Only for the 'aws' and 'generic' providers.
	// +optional
	STS *BucketSTSSpec `json:"sts,omitempty"`

	// Insecure allows plain HTTP to the endpoint.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Region of the endpoint the bucket is in.
	// +optional
	Region string `json:"region,omitempty"`

	// Prefix limits the download, server-side, to object keys with this prefix.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// SecretRef names a Secret with the credentials (e.g. 'accesskey' and
	// 'secretkey' for S3).
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is the ServiceAccount whose workload identity is
	// used to authenticate. Only for the 'gcp' and 'aws' providers.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret of type Opaque or kubernetes.io/tls with a
	// client certificate ('tls.crt', 'tls.key') and/or a CA ('ca.crt') for
	// the endpoint. Only for the 'generic' provider.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret with the proxy 'address' and optional
	// 'username' and 'password' used to reach the endpoint.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval between two checks of the bucket for changes.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of each list or download operation. Defaults to 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore replaces the default exclusion rules with rules in .sourceignore
	// (.gitignore) format. Objects matching them are left out of the Artifact.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciliation of this Bucket until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// BucketSTSSpec configures a Security Token Service that hands out temporary
// credentials for the bucket.
type BucketSTSSpec struct {
	// Provider of the STS: 'aws' or 'ldap'.
	// +kubebuilder:validation:Enum=aws;ldap
	// +required
	Provider string `json:"provider"`

	// Endpoint is the http:// or https:// address of the STS.
	// +kubebuilder:validation:Pattern="^(http|https)://.*$"
	// +required
	Endpoint string `json:"endpoint"`

	// SecretRef names a Secret with 'username' and 'password' for the STS.
	// Only for the 'ldap' provider.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret of type Opaque or kubernetes.io/tls with a
	// client certificate ('tls.crt', 'tls.key') and/or a CA ('ca.crt') for
	// the STS endpoint. Only for the 'ldap' provider.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`
}

// BucketStatus is the observed state of a Bucket.
type BucketStatus struct {
	// ObservedGeneration is the last generation of the object the controller acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions holds the conditions of the Bucket.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is a stable download address of the latest Artifact.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore value Artifact was built with.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all;fluxcd;fluxcd-sources
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// Bucket produces an Artifact from the objects of an object storage bucket.
type Bucket struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BucketSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status BucketStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *Bucket) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Bucket) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetRequeueAfter returns spec.interval.
func (in *Bucket) GetRequeueAfter() time.Duration { return in.Spec.Interval.Duration }

// GetArtifact returns status.artifact, nil when none was produced yet.
func (in *Bucket) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// SetArtifact records a in the status.
func (in *Bucket) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *Bucket) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *Bucket) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *Bucket) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *Bucket) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *Bucket) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// BucketList is a list of Bucket objects.
type BucketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Bucket `json:"items"`
}
