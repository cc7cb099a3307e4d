package v1

// Condition types set by the source controllers in addition to the shared
// Ready, Reconciling and Stalled of api/meta. The "negative polarity" types
// (ArtifactOutdated, FetchFailed, BuildFailed, StorageOperationFailed,
// IncludeUnavailable) are present only while True.
const (
	// ArtifactInStorageCondition is True once the Artifact has been written
	// to storage and can be downloaded.
	ArtifactInStorageCondition string = "ArtifactInStorage"

	// ArtifactOutdatedCondition is True while the stored Artifact no longer
	// matches the upstream revision or the spec.
	ArtifactOutdatedCondition string = "ArtifactOutdated"

	// SourceVerifiedCondition reports the outcome of signature verification.
	// It is present only when verification is configured.
	SourceVerifiedCondition string = "SourceVerified"

	// FetchFailedCondition is True while the upstream source cannot be
	// fetched; the stored Artifact may then be out of date.
	FetchFailedCondition string = "FetchFailed"

	// BuildFailedCondition is True while the Artifact cannot be built from
	// the fetched content.
	BuildFailedCondition string = "BuildFailed"

	// StorageOperationFailedCondition is True while a file system operation
	// on the Artifact storage fails.
	StorageOperationFailedCondition string = "StorageOperationFailed"

	// IncludeUnavailableCondition is True while a GitRepository listed in
	// spec.include does not exist or has no Artifact yet.
	IncludeUnavailableCondition string = "IncludeUnavailable"
)

// Reasons shared by the source kinds. The generic reasons (Succeeded, Failed,
// Progressing, InvalidPath, ...) live in api/meta.
const (
	// URLInvalidReason: the source URL cannot be parsed or used.
	URLInvalidReason string = "URLInvalid"
	// AuthenticationFailedReason: the credentials Secret is missing keys or
	// the upstream rejected the credentials.
	AuthenticationFailedReason string = "AuthenticationFailed"
	// VerificationErrorReason: a signature could not be verified.
	VerificationErrorReason string = "VerificationError"
	// DirCreationFailedReason: a storage directory could not be created.
	DirCreationFailedReason string = "DirectoryCreationFailed"
	// StatOperationFailedReason: a stat call on a storage path failed.
	StatOperationFailedReason string = "StatOperationFailed"
	// ReadOperationFailedReason: a read from storage or the fetched content failed.
	ReadOperationFailedReason string = "ReadOperationFailed"
	// AcquireLockFailedReason: the storage lock of the Artifact could not be taken.
	AcquireLockFailedReason string = "AcquireLockFailed"
	// ArchiveOperationFailedReason: the Artifact tarball could not be written.
	ArchiveOperationFailedReason string = "ArchiveOperationFailed"
	// SymlinkUpdateFailedReason: the stable symlink to the latest Artifact
	// could not be updated.
	SymlinkUpdateFailedReason string = "SymlinkUpdateFailed"
	// ArtifactUpToDateReason: the stored Artifact already matches upstream.
	ArtifactUpToDateReason string = "ArtifactUpToDate"
	// CacheOperationFailedReason: a cache read or write failed.
	CacheOperationFailedReason string = "CacheOperationFailed"
	// PatchOperationFailedReason: the object status could not be patched.
	PatchOperationFailedReason string = "PatchOperationFailed"
	// InvalidSTSConfigurationReason: the Bucket spec.sts settings are unusable.
	InvalidSTSConfigurationReason string = "InvalidSTSConfiguration"
	// InvalidProviderConfigurationReason: the provider settings (workload
	// identity, service account) are unusable.
	InvalidProviderConfigurationReason string = "InvalidProviderConfiguration"
	// NewRevisionReason: upstream has a revision that is not stored yet
	// (reason of ArtifactOutdated).
	NewRevisionReason string = "NewRevision"
)

// Reasons specific to one kind.
const (
	// GitOperationSucceededReason: clone, fetch or checkout succeeded.
	GitOperationSucceededReason string = "GitOperationSucceeded"
	// GitOperationFailedReason: clone, fetch or checkout failed.
	GitOperationFailedReason string = "GitOperationFailed"

	// OCIPullFailedReason: the OCI artifact could not be pulled.
	OCIPullFailedReason string = "OCIArtifactPullFailed"
	// OCILayerOperationFailedReason: the selected layer could not be
	// extracted or copied.
	OCILayerOperationFailedReason string = "OCIArtifactLayerOperationFailed"

	// IndexationFailedReason: the Helm repository index could not be fetched
	// or parsed.
	IndexationFailedReason string = "IndexationFailed"

	// ChartPullSucceededReason: the chart was downloaded from a Helm repository.
	ChartPullSucceededReason string = "ChartPullSucceeded"
	// ChartPackageSucceededReason: the chart was packaged from a Git or Bucket source.
	ChartPackageSucceededReason string = "ChartPackageSucceeded"
	// InvalidChartReferenceReason: spec.chart does not name a usable chart.
	InvalidChartReferenceReason string = "InvalidChartReference"
	// IllegalPathReason: a chart or values path escapes the source root.
	IllegalPathReason string = "IllegalPath"
	// NewChartReason: a new chart version is available (reason of ArtifactOutdated).
	NewChartReason string = "NewChart"
	// SourceUnavailableReason: the HelmChart's source does not exist (yet);
	// it waits for it.
	SourceUnavailableReason string = "SourceUnavailable"
	// NoSourceArtifactReason: the HelmChart's source has no artifact yet;
	// it waits for one.
	NoSourceArtifactReason string = "NoSourceArtifact"

	// BucketOperationSucceededReason: listing and downloading the bucket succeeded.
	BucketOperationSucceededReason string = "BucketOperationSucceeded"
	// BucketOperationFailedReason: listing or downloading the bucket failed.
	BucketOperationFailedReason string = "BucketOperationFailed"
)

// Reasons of the SourceVerified condition of a GitRepository.
const (
	// InvalidCommitSignatureReason: the commit's signature does not verify.
	InvalidCommitSignatureReason string = "InvalidCommitSignature"
	// InvalidTagSignatureReason: the tag's signature does not verify.
	InvalidTagSignatureReason string = "InvalidTagSignature"
	// InvalidGitObjectReason: the object to verify is missing or unsigned.
	InvalidGitObjectReason string = "InvalidGitObject"
	// InvalidVerificationModeReason: the mode cannot apply to the reference
	// (Tag without a tag reference).
	InvalidVerificationModeReason string = "InvalidVerificationMode"
)
