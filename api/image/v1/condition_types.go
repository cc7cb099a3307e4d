package v1

// Reasons the image kinds report in their conditions, besides the shared ones
// in api/meta (Succeeded, Failed, Progressing, DependencyNotReady,
// AccessDenied...).
const (
	// ImageURLInvalidReason means an ImageRepository's image is not a valid
	// repository reference.
	ImageURLInvalidReason string = "ImageURLInvalid"

	// AuthenticationFailedReason means the registry credentials are missing
	// fields or were refused.
	AuthenticationFailedReason string = "AuthenticationFailed"

	// ReadOperationFailedReason means reading from the registry or the tag
	// database failed.
	ReadOperationFailedReason string = "ReadOperationFailed"

	// IntervalNotConfiguredReason means an interval the object needs is
	// missing.
	IntervalNotConfiguredReason string = "IntervalNotConfigured"

	// InvalidUpdateStrategyReason means an ImageUpdateAutomation's update
	// strategy is not usable.
	InvalidUpdateStrategyReason string = "InvalidUpdateStrategy"

	// InvalidSourceConfigReason means the referenced source is not usable
	// for automation (wrong kind, missing Git settings...).
	InvalidSourceConfigReason string = "InvalidSourceConfiguration"

	// SourceManagerFailedReason means preparing the Git working copy failed.
	SourceManagerFailedReason string = "SourceManagerFailed"

	// GitOperationFailedReason means a clone, commit or push failed.
	GitOperationFailedReason string = "GitOperationFailed"

	// UpdateFailedReason means rewriting the files with the new images failed.
	UpdateFailedReason string = "UpdateFailed"

	// InvalidPolicySelectorReason means spec.policySelector is not a valid
	// label selector.
	InvalidPolicySelectorReason string = "InvalidPolicySelector"

	// RemovedTemplateFieldReason means the commit message template uses a
	// field that no longer exists (such as .Updated).
	RemovedTemplateFieldReason string = "RemovedTemplateField"
)
