package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// ArtifactGeneratorSpec is the desired state of an ArtifactGenerator: the
// sources it reads, by alias, and the Artifacts it writes from them.
//
// Without pathPattern every artifact name is a plain object name; with it,
// names may hold {{ .capture }} templates filled once per matched directory.
// +kubebuilder:validation:XValidation:rule="has(self.pathPattern) || self.artifacts.all(a, a.name.matches('^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'))",message="spec.artifacts[].name must be a lowercase RFC 1123 name (a-z, 0-9, '-') when spec.pathPattern is not set; a name with {{ .capture }} templates needs a pathPattern"
type ArtifactGeneratorSpec struct {
	// CommonMetadata holds labels and annotations put on every generated
	// ExternalArtifact.
	// +optional
	CommonMetadata *meta.CommonMetadata `json:"commonMetadata,omitempty"`

	// Sources are the source objects the Artifacts are generated from, each
	// referred to as @alias in the rest of the spec.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	// +required
	Sources []SourceReference `json:"sources"`

	// PathPattern discovers directories in one source, "@alias/<pattern>",
	// where {name} captures one path segment, e.g.
	// "@monorepo/apps/{app}/envs/{env}". One set of artifacts is generated
	// per matched directory; the captures, lowercased, fill the
	// {{ .name }} templates of the artifacts and become labels of the
	// generated ExternalArtifacts.
	// +kubebuilder:validation:Pattern="^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.+)$"
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	PathPattern string `json:"pathPattern,omitempty"`

	// OutputArtifacts are the Artifacts to generate, each published as an
	// ExternalArtifact of the same name in the generator's namespace.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	// +required
	OutputArtifacts []OutputArtifact `json:"artifacts"`
}

// SourceReference names one source object the generator reads.
type SourceReference struct {
	// Alias is the name the spec uses for this source, as @alias. It must
	// be unique within the generator: lowercase alphanumerics, '_' and '-',
	// starting and ending with an alphanumeric.
	// +kubebuilder:validation:Pattern="^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$"
	// +kubebuilder:validation:MaxLength=63
	// +required
	Alias string `json:"alias"`

	// Name of the source object.
	// +kubebuilder:validation:Pattern="^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the source object; the generator's namespace if empty.
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Kind of the source object.
	// +kubebuilder:validation:Enum=Bucket;GitRepository;OCIRepository;HelmChart;ExternalArtifact
	// +required
	Kind string `json:"kind"`
}

// OutputArtifact is one Artifact to generate and the ExternalArtifact that
// publishes it.
type OutputArtifact struct {
	// Name of the generated ExternalArtifact. With spec.pathPattern it may
	// hold {{ .capture }} templates, e.g. "{{ .app }}-{{ .env }}".
	// +kubebuilder:validation:Pattern="^([a-z0-9-]|\\{\\{ *\\.[A-Za-z_][A-Za-z0-9_]* *\\}\\})+$"
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Revision makes the Artifact's revision that of a source, "@alias".
	// When empty the revision is latest@sha256:<digest of the content>, so
	// equal content keeps an equal revision.
	// +kubebuilder:validation:Pattern="^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Revision string `json:"revision,omitempty"`

	// OriginRevision, "@alias", puts that source's revision in the
	// Artifact's metadata as org.opencontainers.image.revision, which
	// appliers report as their origin revision. A source without a
	// revision leaves the metadata out.
	// +kubebuilder:validation:Pattern="^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	OriginRevision string `json:"originRevision,omitempty"`

	// Copy lists the copy operations that build the Artifact, run in order,
	// later ones overwriting the files of earlier ones.
	// +kubebuilder:validation:MinItems=1
	// +required
	Copy []CopyOperation `json:"copy"`
}

// CopyOperation copies files from a source into the generated Artifact with
// cp-like semantics: "dir/" copies the directory, "dir/**" its contents.
type CopyOperation struct {
	// From is "@alias/<glob>", the files of a source to copy; '*' matches
	// within a path segment and '**' across segments.
	// +kubebuilder:validation:Pattern="^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.*)$"
	// +kubebuilder:validation:MaxLength=1024
	// +required
	From string `json:"from"`

	// To is "@artifact/<path>", where the files land in the Artifact; a
	// trailing '/' names a directory.
	// +kubebuilder:validation:Pattern="^@(artifact)/(.*)$"
	// +kubebuilder:validation:MaxLength=1024
	// +required
	To string `json:"to"`

	// Exclude lists globs of files matched by From not to copy, relative to
	// the source root or to the From prefix; a glob without '/' matches at
	// any depth.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Exclude []string `json:"exclude,omitempty"`

	// Strategy is how a file is written: Overwrite (the default) replaces
	// the destination, Merge deep-merges a YAML document into it (arrays
	// replaced, as Helm merges values), Extract unpacks a .tar.gz or .tgz.
	// +kubebuilder:validation:Enum=Overwrite;Merge;Extract
	// +optional
	Strategy string `json:"strategy,omitempty"`
}

// GetStrategy returns Strategy, OverwriteStrategy when it is empty: Flux
// sets no default in the schema, so stored objects keep the field unset.
func (in CopyOperation) GetStrategy() string {
	if in.Strategy == "" {
		return OverwriteStrategy
	}
	return in.Strategy
}

// ArtifactGeneratorStatus is the observed state of an ArtifactGenerator.
// Unlike the other kinds it has no observedGeneration: each condition
// carries the generation it describes, as in Flux.
type ArtifactGeneratorStatus struct {
	meta.ReconcileRequestStatus `json:",inline"`

	// Conditions holds the conditions of the ArtifactGenerator.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Inventory lists the ExternalArtifacts generated, so that those gone
	// from the spec or the pattern are deleted with their files.
	// +optional
	Inventory []InventoryEntry `json:"inventory,omitempty"`

	// ObservedSourcesDigest is a digest over the revisions of all sources,
	// as of the last generation; a change means the Artifacts are rebuilt.
	// +optional
	ObservedSourcesDigest string `json:"observedSourcesDigest,omitempty"`
}

// InventoryEntry records one generated ExternalArtifact and its file.
type InventoryEntry struct {
	// Name of the ExternalArtifact.
	// +required
	Name string `json:"name"`

	// Namespace of the ExternalArtifact.
	// +required
	Namespace string `json:"namespace"`

	// Digest of the Artifact file, "<algorithm>:<hex>".
	// +required
	Digest string `json:"digest"`

	// Filename of the Artifact file in storage.
	// +required
	Filename string `json:"filename"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ag,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"

// ArtifactGenerator turns the Artifacts of other sources into new Artifacts,
// each published as an ExternalArtifact that Kustomizations and
// HelmReleases consume like any source: a monorepo split into parts that
// change independently, or several sources composed into one.
type ArtifactGenerator struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ArtifactGeneratorSpec   `json:"spec,omitempty"`
	Status ArtifactGeneratorStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ArtifactGeneratorList is a list of ArtifactGenerator objects.
type ArtifactGeneratorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ArtifactGenerator `json:"items"`
}
