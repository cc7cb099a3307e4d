package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// GitRepositoryKind is the kind name of GitRepository.
const GitRepositoryKind = "GitRepository"

// Values of GitRepositorySpec.Provider.
const (
	// GitProviderGeneric authenticates with the secretRef credentials only.
	GitProviderGeneric string = "generic"
	// GitProviderAWS uses AWS workload identity (CodeCommit HTTPS URLs).
	GitProviderAWS string = "aws"
	// GitProviderAzure uses Azure workload identity (Azure DevOps).
	GitProviderAzure string = "azure"
	// GitProviderGitHub authenticates as a GitHub App.
	GitProviderGitHub string = "github"
)

// GitVerificationMode names the Git objects whose signatures are checked.
type GitVerificationMode string

// Values of GitVerificationMode. "head" is accepted as a legacy spelling of
// "HEAD".
const (
	// ModeGitHEAD verifies the commit HEAD points to after checkout.
	ModeGitHEAD GitVerificationMode = "HEAD"
	// ModeGitHEADLegacy is the lower-case spelling kept for old manifests.
	ModeGitHEADLegacy GitVerificationMode = "head"
	// ModeGitTag verifies the annotated tag named in spec.ref.
	ModeGitTag GitVerificationMode = "Tag"
	// ModeGitTagAndHEAD verifies both the tag and the commit it points to.
	ModeGitTagAndHEAD GitVerificationMode = "TagAndHEAD"
)

// GitRepositorySpec is the desired state of a GitRepository: which repository
// and reference to fetch, how to authenticate, and how to build the Artifact.
// +kubebuilder:validation:XValidation:rule="!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",message="serviceAccountName can only be set when provider is 'azure' or 'aws'"
type GitRepositorySpec struct {
	// URL of the Git repository: http://, https:// or ssh://. The scp-like
	// form (git@host:path) is not accepted.
	// +kubebuilder:validation:Pattern="^(http|https|ssh)://.*$"
	// +required
	URL string `json:"url"`

	// SecretRef names a Secret in the same namespace with the credentials:
	// 'username' and 'password' or 'bearerToken' for HTTPS, 'identity' and
	// 'known_hosts' for SSH, optional 'ca.crt', or the GitHub App keys when
	// provider is 'github'.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// Provider selects how to authenticate: 'generic' (the default, secretRef
	// only), 'aws', 'azure' (workload identity) or 'github' (GitHub App).
	// +kubebuilder:validation:Enum=generic;aws;azure;github
	// +optional
	Provider string `json:"provider,omitempty"`

	// ServiceAccountName is the Kubernetes ServiceAccount whose workload
	// identity is used to authenticate. Only for the 'azure' and 'aws' providers.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval between two checks of the repository for new commits.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of each Git operation such as a clone. Defaults to 60s.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Reference is the Git reference to check out and watch. Without it the
	// 'master' branch is used.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`

	// Verification turns on signature verification of the checked-out
	// commit and/or tag.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`

	// ProxySecretRef names a Secret with the proxy 'address' and optional
	// 'username' and 'password' used to reach the Git server.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Ignore replaces the default exclusion rules with rules in .sourceignore
	// (.gitignore) format. Files matching them are left out of the Artifact.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciliation of this GitRepository until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RecurseSubmodules also clones every submodule of the repository.
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`

	// Include embeds the Artifacts of other GitRepositories in this one.
	// +optional
	Include []GitRepositoryInclude `json:"include,omitempty"`

	// SparseCheckout limits the checkout, and the Artifact, to these directories.
	// +optional
	SparseCheckout []string `json:"sparseCheckout,omitempty"`
}

// GitRepositoryInclude copies content of another GitRepository's Artifact
// into this one.
type GitRepositoryInclude struct {
	// GitRepositoryRef names the GitRepository, in the same namespace, whose
	// Artifact is included.
	// +required
	GitRepositoryRef meta.LocalObjectReference `json:"repository"`

	// FromPath is the directory of the included Artifact to copy. Defaults to
	// its root.
	// +optional
	FromPath string `json:"fromPath,omitempty"`

	// ToPath is where the copy lands in this Artifact. Defaults to the name
	// of the included GitRepository.
	// +optional
	ToPath string `json:"toPath,omitempty"`
}

// GitRepositoryRef selects what to check out. When several fields are set,
// commit wins over name, name over semver, semver over tag, tag over branch.
type GitRepositoryRef struct {
	// Branch to check out. Defaults to 'master' when no other field is set.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer is a semver range; the highest matching tag is checked out.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Name is a full Git reference such as "refs/heads/main",
	// "refs/tags/v1.0.0" or "refs/pull/420/head".
	// +optional
	Name string `json:"name,omitempty"`

	// Commit SHA to check out. Can be combined with Branch, which is then
	// cloned shallowly and must contain the commit.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// GitRepositoryVerification says which signatures to check and with which keys.
type GitRepositoryVerification struct {
	// Mode selects the objects to verify: 'HEAD' (the checked-out commit,
	// also accepted as 'head'), 'Tag' or 'TagAndHEAD'.
	// +kubebuilder:validation:Enum=head;HEAD;Tag;TagAndHEAD
	// +kubebuilder:default:=HEAD
	// +optional
	Mode GitVerificationMode `json:"mode,omitempty"`

	// SecretRef names a Secret holding the trusted public keys: PGP keys
	// under keys ending in '.asc', SSH keys under keys ending in '.sshpub'.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`
}

// GetMode returns the verification mode with the legacy 'head' and an empty
// value normalised to ModeGitHEAD.
func (in *GitRepositoryVerification) GetMode() GitVerificationMode {
	switch in.Mode {
	case ModeGitTag, ModeGitTagAndHEAD:
		return in.Mode
	default:
		return ModeGitHEAD
	}
}

// GitRepositoryStatus is the observed state of a GitRepository.
type GitRepositoryStatus struct {
	// ObservedGeneration is the last generation of the object the controller acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions holds the conditions of the GitRepository.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact is the output of the last successful reconciliation.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// IncludedArtifacts are the Artifacts of spec.include used to build Artifact.
	// +optional
	IncludedArtifacts []*meta.Artifact `json:"includedArtifacts,omitempty"`

	// ObservedIgnore is the spec.ignore value Artifact was built with.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedRecurseSubmodules is the spec.recurseSubmodules value Artifact
	// was built with.
	// +optional
	ObservedRecurseSubmodules bool `json:"observedRecurseSubmodules,omitempty"`

	// ObservedInclude is the spec.include value Artifact was built with.
	// +optional
	ObservedInclude []GitRepositoryInclude `json:"observedInclude,omitempty"`

	// ObservedSparseCheckout is the spec.sparseCheckout value Artifact was
	// built with.
	// +optional
	ObservedSparseCheckout []string `json:"observedSparseCheckout,omitempty"`

	// SourceVerificationMode is the verification mode last applied.
	// +optional
	SourceVerificationMode *GitVerificationMode `json:"sourceVerificationMode,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=gitrepo,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// GitRepository produces an Artifact from a revision of a Git repository.
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GitRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *GitRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *GitRepository) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetRequeueAfter returns spec.interval.
func (in *GitRepository) GetRequeueAfter() time.Duration { return in.Spec.Interval.Duration }

// GetArtifact returns status.artifact, nil when none was produced yet.
func (in *GitRepository) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// SetArtifact records a in the status.
func (in *GitRepository) SetArtifact(a *meta.Artifact) { in.Status.Artifact = a }

// IsSuspended tells whether spec.suspend stops reconciliation.
func (in *GitRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *GitRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration records the generation the status describes.
func (in *GitRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetLastHandledReconcileRequest returns status.lastHandledReconcileAt.
func (in *GitRepository) GetLastHandledReconcileRequest() string {
	return in.Status.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the requestedAt value handled.
func (in *GitRepository) SetLastHandledReconcileRequest(v string) {
	in.Status.LastHandledReconcileAt = v
}

// +kubebuilder:object:root=true

// GitRepositoryList is a list of GitRepository objects.
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}
