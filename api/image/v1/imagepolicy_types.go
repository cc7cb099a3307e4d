package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ImagePolicyKind is the kind name of ImagePolicy objects.
const ImagePolicyKind = "ImagePolicy"

// Tag orders of the alphabetical and numerical policies.
const (
	// OrderAsc picks the last tag in ascending order (Z, 9).
	OrderAsc string = "asc"
	// OrderDesc picks the last tag in descending order (A, 0).
	OrderDesc string = "desc"
)

// ImagePolicySpec says how the latest image is chosen from the tags of an
// ImageRepository.
// +kubebuilder:validation:XValidation:rule="!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",message="spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"
// +kubebuilder:validation:XValidation:rule="has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",message="spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
type ImagePolicySpec struct {
	// ImageRepositoryRef names the ImageRepository whose tags are
	// considered. Another namespace is allowed only if that
	// ImageRepository's accessFrom selects this one.
	// +required
	ImageRepositoryRef meta.NamespacedObjectReference `json:"imageRepositoryRef"`

	// Policy is the rule that orders the tags and picks the latest.
	// +required
	Policy ImagePolicyChoice `json:"policy"`

	// FilterTags keeps only the tags matching a pattern, optionally
	// rewriting them before the policy compares them. Without it every tag
	// is compared.
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`

	// DigestReflectionPolicy says when status.latestRef.digest is filled:
	// Never leaves it empty; IfNotPresent sets it once for the chosen tag;
	// Always refreshes it every spec.interval.
	// +kubebuilder:default:=Never
	DigestReflectionPolicy ReflectionPolicy `json:"digestReflectionPolicy,omitempty"`

	// Interval between refreshes of the latest tag's digest. Allowed, and
	// required, only with DigestReflectionPolicy Always.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Suspend stops further evaluations while true; a running one completes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReflectionPolicy says when a value is copied from the registry into a field.
// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
type ReflectionPolicy string

const (
	// ReflectAlways copies the current registry value every time, replacing
	// the one already there.
	ReflectAlways ReflectionPolicy = "Always"
	// ReflectIfNotPresent copies the value only while the field is empty.
	ReflectIfNotPresent ReflectionPolicy = "IfNotPresent"
	// ReflectNever never copies the value.
	ReflectNever ReflectionPolicy = "Never"
)

// ImagePolicyChoice holds one of the tag selection policies.
type ImagePolicyChoice struct {
	// SemVer picks the highest tag within a semver range.
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`

	// Alphabetical orders the tags alphabetically.
	// +optional
	Alphabetical *AlphabeticalPolicy `json:"alphabetical,omitempty"`

	// Numerical orders the tags as numbers.
	// +optional
	Numerical *NumericalPolicy `json:"numerical,omitempty"`
}

// SemVerPolicy picks the highest semantic version in a range.
type SemVerPolicy struct {
	// Range is a semver constraint, e.g. '>=1.0.0 <2.0.0'; the highest tag
	// within it is the latest image.
	// +required
	Range string `json:"range"`
}

// AlphabeticalPolicy orders tags alphabetically and picks the last one.
type AlphabeticalPolicy struct {
	// Order of the sort: with letters as tags, 'asc' picks Z and 'desc'
	// picks A.
	// +kubebuilder:default:="asc"
	// +kubebuilder:validation:Enum=asc;desc
	// +optional
	Order string `json:"order,omitempty"`
}

// NumericalPolicy orders tags as numbers and picks the last one.
type NumericalPolicy struct {
	// Order of the sort: with 0 to 9 as tags, 'asc' picks 9 and 'desc'
	// picks 0.
	// +kubebuilder:default:="asc"
	// +kubebuilder:validation:Enum=asc;desc
	// +optional
	Order string `json:"order,omitempty"`
}

// TagFilter selects and rewrites tags before the policy compares them.
type TagFilter struct {
	// Pattern is a regular expression; tags that do not match are ignored.
	// +optional
	Pattern string `json:"pattern"`

	// Extract is a replacement template over Pattern's capture groups, e.g.
	// '$ts'; the policy compares the result instead of the whole tag.
	// +optional
	Extract string `json:"extract"`
}

// ImagePolicyStatus is the observed state of an ImagePolicy.
type ImagePolicyStatus struct {
	// LatestRef is the image the policy picked from the filtered and
	// ordered tags.
	// +optional
	LatestRef *ImageRef `json:"latestRef,omitempty"`

	// ObservedPreviousRef is the LatestRef before the last change, to tell
	// the previous image from the current one.
	// +optional
	ObservedPreviousRef *ImageRef `json:"observedPreviousRef,omitempty"`

	// Selection says why latestRef is the tag it is, or why no tag could
	// be picked: the counts of the last evaluation and its best candidates.
	// A Driftless extension, not in Flux; Flux clients ignore it.
	// +optional
	Selection *TagSelection `json:"selection,omitempty"`

	// ObservedGeneration is the last generation the controller handled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions holds the conditions of the ImagePolicy.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// TagSelection is how the policy chose among the tags of one scan. It is a
// Driftless extension, not in Flux; Flux clients ignore it.
type TagSelection struct {
	// Revision is the ImageRepository's lastScanResult.revision the
	// selection was made from.
	// +optional
	Revision string `json:"revision,omitempty"`

	// Total is the number of distinct tags of the scan.
	Total int `json:"total"`

	// Filtered is the number of tags left after filterTags.pattern.
	Filtered int `json:"filtered"`

	// Unparsed is the number of values the policy could not read (not a
	// version, not a number).
	// +optional
	Unparsed int `json:"unparsed,omitempty"`

	// UnparsedTags names the first few of them.
	// +optional
	UnparsedTags []string `json:"unparsedTags,omitempty"`

	// Best lists up to ten candidates, best first; Best[0] is latestRef's
	// tag. Empty when no tag could be picked.
	// +optional
	Best []TagCandidate `json:"best,omitempty"`
}

// TagCandidate is one tag the policy compared.
type TagCandidate struct {
	// Tag is the tag as the registry lists it.
	Tag string `json:"tag"`

	// Value is what filterTags.extract made of the tag, set only when it
	// differs from the tag.
	// +optional
	Value string `json:"value,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgpol;imagepol,categories=all;fluxcd;fluxcd-images
// +kubebuilder:printcolumn:name="Image",type="string",JSONPath=".status.latestRef.name"
// +kubebuilder:printcolumn:name="Tag",type="string",JSONPath=".status.latestRef.tag"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// ImagePolicy picks the latest image from the tags an ImageRepository found.
type ImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImagePolicySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImagePolicyStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the ImagePolicy.
func (in *ImagePolicy) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the conditions of the ImagePolicy.
func (in *ImagePolicy) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetDigestReflectionPolicy returns spec.digestReflectionPolicy, Never when
// unset.
func (in *ImagePolicy) GetDigestReflectionPolicy() ReflectionPolicy {
	if in.Spec.DigestReflectionPolicy == "" {
		return ReflectNever
	}
	return in.Spec.DigestReflectionPolicy
}

// GetRequeueAfter returns how often the policy refreshes on its own: with
// digest reflection Always, spec.interval (10 minutes when unset); otherwise
// zero, as the policy is then re-evaluated only when its ImageRepository
// changes.
func (in *ImagePolicy) GetRequeueAfter() time.Duration {
	if in.GetDigestReflectionPolicy() != ReflectAlways {
		return 0
	}
	if in.Spec.Interval == nil || in.Spec.Interval.Duration == 0 {
		return 10 * time.Minute
	}
	return in.Spec.Interval.Duration
}

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *ImagePolicy) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *ImagePolicy) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *ImagePolicy) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *ImagePolicy) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *ImagePolicy) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// ImagePolicyList is a list of ImagePolicies.
type ImagePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImagePolicy `json:"items"`
}
