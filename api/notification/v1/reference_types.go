package v1

// CrossNamespaceObjectReference selects Flux objects of one kind, by name or,
// with name '*', by labels, in any namespace. Alerts use it to pick the
// objects whose events they forward; Receivers use it to pick the objects
// they reconcile.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referent, for example source.toolkit.fluxcd.io/v1.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent.
	// +kubebuilder:validation:Enum=Bucket;GitRepository;Kustomization;HelmRelease;HelmChart;HelmRepository;ImageRepository;ImagePolicy;ImageUpdateAutomation;OCIRepository;ArtifactGenerator;ExternalArtifact
	// +required
	Kind string `json:"kind"`

	// Name of the referent, or '*' to select every object of the kind
	// (optionally narrowed by MatchLabels).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the referent; defaults to the namespace of the object
	// holding the reference.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// MatchLabels selects objects by label; every pair must match. It is
	// only honoured when Name is '*'.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}
