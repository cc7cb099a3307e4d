package v1

import "github.com/driftless/driftless/api/meta"

// GitSpec holds the Git settings of an ImageUpdateAutomation.
type GitSpec struct {
	// Checkout overrides the reference to clone; by default the
	// GitRepository's own spec.ref is used.
	// +optional
	Checkout *GitCheckoutSpec `json:"checkout,omitempty"`

	// Commit says how changes are committed.
	// +required
	Commit CommitSpec `json:"commit"`

	// Push says where commits are pushed; by default back to the branch
	// that was checked out.
	// +optional
	Push *PushSpec `json:"push,omitempty"`
}

// HasRefspec tells whether a push refspec is set.
func (in GitSpec) HasRefspec() bool {
	return in.Push != nil && in.Push.Refspec != ""
}

// GitCheckoutSpec says what to clone.
type GitCheckoutSpec struct {
	// Reference is the branch, tag or commit to clone.
	// +required
	Reference GitRepositoryRef `json:"ref"`
}

// CommitSpec says how changes are committed.
type CommitSpec struct {
	// Author of the commits.
	// +required
	Author CommitUser `json:"author"`

	// SigningKey signs the commits with an OpenPGP or SSH key.
	// +optional
	SigningKey *SigningKey `json:"signingKey,omitempty"`

	// MessageTemplate is a Go text/template for the commit message, fed with
	// the changes made (.Changed), the automation object
	// (.AutomationObject) and MessageTemplateValues (.Values). The former
	// .Updated field no longer exists.
	// +optional
	MessageTemplate string `json:"messageTemplate,omitempty"`

	// MessageTemplateValues are extra values for the message template.
	// +optional
	MessageTemplateValues map[string]string `json:"messageTemplateValues,omitempty"`
}

// CommitUser is the identity commits are made with.
type CommitUser struct {
	// Name of the commit author.
	// +optional
	Name string `json:"name,omitempty"`

	// Email of the commit author.
	// +required
	Email string `json:"email"`
}

// SigningKey points to the key commits are signed with.
type SigningKey struct {
	// SecretRef names a Secret, in the automation's namespace, holding the
	// key: for 'gpg' an armored keyring in 'git.asc' and an optional
	// 'passphrase'; for 'ssh' a private key in 'identity' and an optional
	// 'password'.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`

	// Type of the key; 'gpg' when empty.
	// +optional
	Type SigningKeyType `json:"type,omitempty"`
}

// SigningKeyType is the format of a commit signing key.
// +kubebuilder:validation:Enum=gpg;ssh
type SigningKeyType string

const (
	// SigningKeyTypeGPG is an OpenPGP key under 'git.asc'.
	SigningKeyTypeGPG SigningKeyType = "gpg"
	// SigningKeyTypeSSH is an SSH private key under 'identity'.
	SigningKeyTypeSSH SigningKeyType = "ssh"
)

// PushSpec says where commits are pushed.
type PushSpec struct {
	// Branch to push to; created from the checked-out branch when missing.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Refspec to push with, e.g. 'refs/heads/main:refs/heads/auto' or
	// 'HEAD:refs/for/main'. With Branch also set, both are pushed. Deleting
	// refspecs and forced ('+') refspecs are not supported.
	// +kubebuilder:validation:Pattern="^$|^[^+:]"
	// +optional
	Refspec string `json:"refspec,omitempty"`

	// Options are git push options sent to the server, such as GitLab's
	// merge_request.create.
	// +optional
	Options map[string]string `json:"options,omitempty"`
}
