package v1

// Reasons a Receiver reports in its conditions, besides the shared ones in
// api/meta.
const (
	// InitializedReason means the Receiver is ready and its webhook path is
	// published in status.webhookPath.
	InitializedReason string = "Initialized"

	// ValidationFailedReason means part of the Receiver's spec is invalid.
	ValidationFailedReason string = "ValidationFailed"

	// TokenNotFoundReason means the token Secret of the Receiver is missing
	// or has no 'token' key.
	TokenNotFoundReason string = "TokenNotFound"
)
