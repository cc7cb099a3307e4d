package v1

import (
	"github.com/driftless/driftless/api/meta"
)

// CrossNamespaceSourceReference names the source object a Kustomization
// builds from, in any namespace unless cross-namespace references are
// disabled on the controller.
type CrossNamespaceSourceReference struct {
	// APIVersion of the source object.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source object.
	// +kubebuilder:validation:Enum=OCIRepository;GitRepository;Bucket;ExternalArtifact
	// +required
	Kind string `json:"kind"`

	// Name of the source object.
	// +required
	Name string `json:"name"`

	// Namespace of the source object. Defaults to the namespace of the
	// Kustomization.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// BuildMetadataOption is a kind of kustomize build annotation.
// +kubebuilder:validation:Enum=originAnnotations;transformerAnnotations
type BuildMetadataOption string

// Values of spec.buildMetadata.
const (
	// OriginAnnotations annotates each object with the file it came from.
	OriginAnnotations BuildMetadataOption = "originAnnotations"
	// TransformerAnnotations annotates each object with the transformers
	// that changed it.
	TransformerAnnotations BuildMetadataOption = "transformerAnnotations"
)

// Values of spec.postBuild.substituteStrategy.
const (
	// SubstituteWithVariables substitutes only when at least one variable is
	// defined. It is the default.
	SubstituteWithVariables = "WithVariables"
	// SubstituteAlways substitutes even when no variable is defined.
	SubstituteAlways = "Always"
)

// PostBuild configures the variable substitution run on the built
// manifests.
type PostBuild struct {
	// Substitute maps variable names to values. Bash-like forms such as
	// ${var:=default}, ${var:position} and ${var/pattern/replacement} are
	// supported. These values win over those of SubstituteFrom.
	// +optional
	Substitute map[string]string `json:"substitute,omitempty"`

	// SubstituteFrom lists ConfigMaps and Secrets whose data keys are
	// variable names; later entries override earlier ones.
	// +optional
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`

	// SubstituteStrategy is WithVariables (default: substitute only when at
	// least one variable is defined) or Always.
	// +kubebuilder:validation:Enum=WithVariables;Always
	// +optional
	SubstituteStrategy string `json:"substituteStrategy,omitempty"`
}

// SubstituteReference names a ConfigMap or Secret, in the Kustomization's
// namespace, that holds substitution variables.
type SubstituteReference struct {
	// Kind of the object: ConfigMap or Secret.
	// +kubebuilder:validation:Enum=Secret;ConfigMap
	// +required
	Kind string `json:"kind"`

	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Optional lets the reconciliation go on, with no variables from this
	// entry, when the object does not exist.
	// +kubebuilder:default:=false
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// Decryption configures how SOPS-encrypted manifests are decrypted.
type Decryption struct {
	// Provider is the decryption engine; only sops is supported.
	// +kubebuilder:validation:Enum=sops
	// +required
	Provider string `json:"provider"`

	// SecretRef names a Secret holding decryption keys (age, OpenPGP) and
	// cloud KMS credentials. Its static credentials win over
	// ServiceAccountName.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is the service account used to authenticate with
	// cloud KMS services when SecretRef holds no credential for them.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// IgnoreRule leaves some fields of some objects out of drift detection and
// apply.
type IgnoreRule struct {
	// Paths are JSON Pointers (RFC 6901) to the ignored fields; escape '/'
	// in a key as '~1'.
	// +required
	Paths []string `json:"paths"`

	// Target selects the objects the rule applies to; all objects of the
	// Kustomization when unset.
	// +optional
	Target *meta.Selector `json:"target,omitempty"`
}
