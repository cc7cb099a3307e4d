package v2

// Condition types of a HelmRelease, beside the shared ones in api/meta
// (Ready, Reconciling, Stalled).
const (
	// ReleasedCondition tells how the last install or upgrade of the
	// current desired state went.
	ReleasedCondition string = "Released"
	// TestSuccessCondition tells how the last Helm tests of the current
	// desired state went.
	TestSuccessCondition string = "TestSuccess"
	// RemediatedCondition tells how the last rollback or uninstall that
	// followed a failed release went.
	RemediatedCondition string = "Remediated"
	// DriftedCondition tells whether the objects in the cluster differ from
	// the release manifest.
	DriftedCondition string = "Drifted"
)

// Condition reasons of a HelmRelease, beside the shared ones in api/meta
// (ArtifactFailed, DependencyNotReady, ReconciliationSucceeded, ...).
const (
	// InstallSucceededReason: the Helm install succeeded.
	InstallSucceededReason string = "InstallSucceeded"
	// InstallFailedReason: the Helm install failed.
	InstallFailedReason string = "InstallFailed"
	// UpgradeSucceededReason: the Helm upgrade succeeded.
	UpgradeSucceededReason string = "UpgradeSucceeded"
	// UpgradeFailedReason: the Helm upgrade failed.
	UpgradeFailedReason string = "UpgradeFailed"
	// TestSucceededReason: the Helm tests passed.
	TestSucceededReason string = "TestSucceeded"
	// TestFailedReason: the Helm tests failed.
	TestFailedReason string = "TestFailed"
	// RollbackSucceededReason: the Helm rollback succeeded.
	RollbackSucceededReason string = "RollbackSucceeded"
	// RollbackFailedReason: the Helm rollback failed.
	RollbackFailedReason string = "RollbackFailed"
	// UninstallSucceededReason: the Helm uninstall succeeded.
	UninstallSucceededReason string = "UninstallSucceeded"
	// UninstallFailedReason: the Helm uninstall failed.
	UninstallFailedReason string = "UninstallFailed"
	// DriftDetectedReason: objects in the cluster differ from the release.
	DriftDetectedReason string = "DriftDetected"
	// NoDriftDetectedReason: the objects in the cluster match the release.
	NoDriftDetectedReason string = "NoDriftDetected"
	// InitFailedReason: the Helm configuration could not be set up.
	InitFailedReason string = "InitFailed"
	// GetLastReleaseFailedReason: the last release could not be read from
	// Helm storage.
	GetLastReleaseFailedReason string = "GetLastReleaseFailed"
	// InventoryBuildFailedReason: the inventory of the release objects
	// could not be built.
	InventoryBuildFailedReason string = "InventoryBuildFailed"
	// NamespaceCheckSkippedReason: the target namespace could not be
	// checked before the release.
	NamespaceCheckSkippedReason string = "NamespaceCheckSkipped"
	// RetriesExceededReason: no remediation retries remain; the release
	// stalls until the spec or values change, or a reset is requested.
	RetriesExceededReason string = "RetriesExceeded"
)
