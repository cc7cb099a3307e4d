package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ImageUpdateAutomationKind is the kind name of ImageUpdateAutomation objects.
const ImageUpdateAutomationKind = "ImageUpdateAutomation"

// ImageUpdateAutomationSpec says which repository to update, how to commit
// and where to push.
type ImageUpdateAutomationSpec struct {
	// SourceRef names the GitRepository to clone and push to; its URL and
	// credentials are used.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// GitSpec holds the Git settings: checkout, commit and push. Optional in
	// the schema but needed in practice, as Git is the only source kind.
	// +optional
	GitSpec *GitSpec `json:"git,omitempty"`

	// Interval is the least time between two automation runs.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// PolicySelector selects the ImagePolicies, by label, whose images are
	// written; by default every ImagePolicy in the namespace.
	// +optional
	PolicySelector *metav1.LabelSelector `json:"policySelector,omitempty"`

	// Update says how the files are updated; the Setters strategy on the
	// whole repository when omitted.
	// +kubebuilder:default={"strategy":"Setters"}
	Update *UpdateStrategy `json:"update,omitempty"`

	// Suspend stops further automation runs while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// UpdateStrategyName names a way of updating files.
// +kubebuilder:validation:Enum=Setters
type UpdateStrategyName string

// UpdateStrategySetters rewrites the image fields marked with a
// {"$imagepolicy": "<namespace>:<name>"} comment.
const UpdateStrategySetters UpdateStrategyName = "Setters"

// UpdateStrategy says how the files of the repository are updated.
type UpdateStrategy struct {
	// Strategy is the update strategy to use.
	// +kubebuilder:default=Setters
	// +optional
	Strategy UpdateStrategyName `json:"strategy,omitempty"`

	// Path is the directory, relative to the repository root, whose files
	// are updated; the repository root when empty.
	// +optional
	Path string `json:"path,omitempty"`
}

// ObservedPolicies maps the name of each ImagePolicy an automation run used
// to the image it had picked.
type ObservedPolicies map[string]ImageRef

// ImageUpdateAutomationStatus is the observed state of an
// ImageUpdateAutomation.
type ImageUpdateAutomationStatus struct {
	// LastAutomationRunTime is when the last run completed, whether or not
	// it changed anything.
	// +optional
	LastAutomationRunTime *metav1.Time `json:"lastAutomationRunTime,omitempty"`

	// LastPushCommit is the SHA of the last commit the automation pushed.
	// +optional
	LastPushCommit string `json:"lastPushCommit,omitempty"`

	// LastPushTime is when the automation last pushed a change.
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`

	// ObservedGeneration is the last generation the controller handled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions holds the conditions of the ImageUpdateAutomation.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedPolicies are the ImagePolicies, and their images, that the
	// last run considered.
	// +optional
	ObservedPolicies ObservedPolicies `json:"observedPolicies,omitempty"`

	// ObservedSourceRevision is the source revision the last run saw, to
	// tell whether the source changed since.
	// +optional
	ObservedSourceRevision string `json:"observedSourceRevision,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=iua;imgupd;imgauto,categories=all;fluxcd;fluxcd-images
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:printcolumn:name="Last run",type="string",JSONPath=".status.lastAutomationRunTime",priority=1
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// ImageUpdateAutomation writes the images picked by ImagePolicies into the
// files of a Git repository, commits and pushes.
type ImageUpdateAutomation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImageUpdateAutomationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImageUpdateAutomationStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the ImageUpdateAutomation.
func (in *ImageUpdateAutomation) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the conditions of the ImageUpdateAutomation.
func (in *ImageUpdateAutomation) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns spec.interval.
func (in *ImageUpdateAutomation) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *ImageUpdateAutomation) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *ImageUpdateAutomation) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *ImageUpdateAutomation) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ImageUpdateAutomation) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *ImageUpdateAutomation) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// ImageUpdateAutomationList is a list of ImageUpdateAutomations.
type ImageUpdateAutomationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageUpdateAutomation `json:"items"`
}
