package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ExternalArtifactKind is the kind name of ExternalArtifact.
const ExternalArtifactKind = "ExternalArtifact"

// externalArtifactRequeue is how often consumers look at an ExternalArtifact
// again; it has no interval of its own.
const externalArtifactRequeue = time.Minute

// ExternalArtifactSpec is the desired state of an ExternalArtifact.
type ExternalArtifactSpec struct {
	// SourceRef points to the custom resource the Artifact was generated for.
	// +optional
	SourceRef *meta.NamespacedObjectKindReference `json:"sourceRef,omitempty"`
}

// ExternalArtifactStatus is written by the third-party controller that
// produces the Artifact.
type ExternalArtifactStatus struct {
	// Artifact is the latest Artifact published by the producer.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// Conditions holds the conditions of the ExternalArtifact.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ea,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:printcolumn:name="Source",type="string",JSONPath=".spec.sourceRef.name",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// ExternalArtifact lets a controller outside Driftless publish an Artifact
// that Kustomizations and HelmReleases can consume like any other source.
// No Driftless controller reconciles it.
type ExternalArtifact struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ExternalArtifactSpec   `json:"spec,omitempty"`
	Status ExternalArtifactStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *ExternalArtifact) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ExternalArtifact) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetRequeueAfter returns one minute: the kind has no spec.interval.
func (in *ExternalArtifact) GetRequeueAfter() time.Duration { return externalArtifactRequeue }

// GetArtifact returns status.artifact, nil when none was published yet.
func (in *ExternalArtifact) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// +kubebuilder:object:root=true

// ExternalArtifactList is a list of ExternalArtifact objects.
type ExternalArtifactList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExternalArtifact `json:"items"`
}
