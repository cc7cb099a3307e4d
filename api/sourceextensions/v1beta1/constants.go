package v1beta1

// Names the ArtifactGenerator controller and its consumers share: the
// finalizer, the labels and annotations it reads or writes, and the values of
// spec.artifacts[].copy[].strategy. They are Flux's, so objects written for
// source-watcher behave the same under Driftless.
const (
	// ArtifactGeneratorKind is the kind name of ArtifactGenerator.
	ArtifactGeneratorKind = "ArtifactGenerator"

	// Finalizer holds an ArtifactGenerator until its ExternalArtifacts and
	// their files are deleted.
	Finalizer = "source.extensions.fluxcd.io/finalizer"

	// GeneratorLabel is put on every generated ExternalArtifact with the
	// generator's UID as value; it is reserved, so that an ExternalArtifact
	// made by hand or by another generator is never taken over.
	GeneratorLabel = "source.extensions.fluxcd.io/generator"

	// ReconcileAnnotation set to ReconcileDisabledValue suspends an
	// ArtifactGenerator: the kind has no spec.suspend.
	ReconcileAnnotation = "source.extensions.fluxcd.io/reconcile"
	// ReconcileDisabledValue is the value of ReconcileAnnotation that
	// suspends reconciliation (compared without regard to case).
	ReconcileDisabledValue = "disabled"

	// OriginRevisionMetadataKey is the Artifact metadata key that
	// spec.artifacts[].originRevision fills with the source's revision.
	OriginRevisionMetadataKey = "org.opencontainers.image.revision"

	// DefaultRevisionPointer names the revision of an output that has no
	// spec.artifacts[].revision: latest@sha256:<content hash>.
	DefaultRevisionPointer = "latest"
)

// Values of CopyOperation.Strategy.
const (
	// OverwriteStrategy copies files, later copies replacing earlier ones
	// (the default).
	OverwriteStrategy = "Overwrite"
	// MergeStrategy deep-merges one YAML document into the destination file,
	// arrays replaced, as Helm merges --values files.
	MergeStrategy = "Merge"
	// ExtractStrategy unpacks .tar.gz and .tgz files into the destination.
	ExtractStrategy = "Extract"
)

// Values of SourceReference.Kind: the kinds an ArtifactGenerator reads.
const (
	BucketKind           = "Bucket"
	GitRepositoryKind    = "GitRepository"
	OCIRepositoryKind    = "OCIRepository"
	HelmChartKind        = "HelmChart"
	ExternalArtifactKind = "ExternalArtifact"
)

// Reasons of the ArtifactGenerator's conditions besides the shared ones of
// api/meta (BuildFailed, ReconciliationFailed, AccessDenied).
const (
	// SourceFetchFailedReason: a source is missing, not ready, or its
	// Artifact could not be downloaded or verified (Ready=False).
	SourceFetchFailedReason = "SourceFetchFailed"
	// ValidationFailedReason: the spec cannot work as written, e.g. an
	// unknown alias or an invalid capture (Stalled=True).
	ValidationFailedReason = "ValidationFailed"
	// ReconciliationDisabledReason: ReconcileAnnotation suspends the object.
	ReconciliationDisabledReason = "ReconciliationDisabled"
)
