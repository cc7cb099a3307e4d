package v1

// ImageRef is an image reference split into its parts.
type ImageRef struct {
	// Name is the image name without tag or digest.
	// +required
	Name string `json:"name"`

	// Tag is the image tag.
	// +required
	Tag string `json:"tag"`

	// Digest is the image digest, when known.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// String returns the reference as name:tag, with @digest when known.
func (in *ImageRef) String() string {
	s := in.Name + ":" + in.Tag
	if in.Digest != "" {
		s += "@" + in.Digest
	}
	return s
}

// CrossNamespaceSourceReference names the Git source of an
// ImageUpdateAutomation.
type CrossNamespaceSourceReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent; only GitRepository is supported.
	// +kubebuilder:validation:Enum=GitRepository
	// +kubebuilder:default=GitRepository
	// +required
	Kind string `json:"kind"`

	// Name of the referent.
	// +required
	Name string `json:"name"`

	// Namespace of the referent; defaults to the namespace of the object
	// holding the reference.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// GitRepositoryRef is the Git reference to check out. It has the same fields
// as the GitRepository ref in source.toolkit.fluxcd.io/v1; when several are
// set, Commit wins over Name, Name over SemVer, SemVer over Tag, Tag over
// Branch.
type GitRepositoryRef struct {
	// Branch to check out; 'master' when no other field is set.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer is a semver range; the highest matching tag is checked out.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Name is a full Git reference to check out, such as
	// 'refs/heads/main' or 'refs/pull/420/head'.
	// +optional
	Name string `json:"name,omitempty"`

	// Commit SHA to check out. With Branch set, the branch is cloned
	// shallowly and must contain the commit.
	// +optional
	Commit string `json:"commit,omitempty"`
}
