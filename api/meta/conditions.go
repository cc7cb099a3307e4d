package meta

// Condition types shared by every reconciled kind. Ready is the summary a person
// reads first; Reconciling and Stalled follow kstatus and are present only while
// True.
const (
	// ReadyCondition tells whether the last reconciliation succeeded.
	ReadyCondition string = "Ready"
	// ReconcilingCondition is True while the controller works on the object.
	ReconcilingCondition string = "Reconciling"
	// StalledCondition is True when the controller cannot go on until the spec changes.
	StalledCondition string = "Stalled"
	// HealthyCondition tells whether the applied objects passed their health checks.
	HealthyCondition string = "Healthy"
)

// Reasons shared by every kind.
const (
	SucceededReason               string = "Succeeded"
	FailedReason                  string = "Failed"
	ProgressingReason             string = "Progressing"
	ProgressingWithRetryReason    string = "ProgressingWithRetry"
	SuspendedReason               string = "Suspended"
	DependencyNotReadyReason      string = "DependencyNotReady"
	InvalidPathReason             string = "InvalidPath"
	InvalidURLReason              string = "InvalidURL"
	PruneFailedReason             string = "PruneFailed"
	ArtifactFailedReason          string = "ArtifactFailed"
	BuildFailedReason             string = "BuildFailed"
	HealthCheckFailedReason       string = "HealthCheckFailed"
	HealthCheckCanceledReason     string = "HealthCheckCanceled"
	ReconciliationSucceededReason string = "ReconciliationSucceeded"
	ReconciliationFailedReason    string = "ReconciliationFailed"
	InvalidCELExpressionReason    string = "InvalidCELExpression"
	FeatureGateDisabledReason     string = "FeatureGateDisabled"
	// AccessDeniedReason is used when a cross-namespace reference is not allowed.
	AccessDeniedReason string = "AccessDenied"
)

// Finalizer is set on every reconciled object so the controller can clean up
// (storage, pruned objects) before the object goes away.
const Finalizer = "finalizers.fluxcd.io"

// Annotations and labels of the reconcile protocol.
const (
	// ReconcileRequestAnnotation asks for a reconciliation now; any new value
	// triggers one, and the value is echoed in status.lastHandledReconcileAt.
	ReconcileRequestAnnotation string = "reconcile.fluxcd.io/requestedAt"
	// ForceRequestAnnotation asks a HelmRelease for a one-off install or upgrade.
	ForceRequestAnnotation string = "reconcile.fluxcd.io/forceAt"
	// ResetRequestAnnotation asks a HelmRelease to reset its failure counters.
	ResetRequestAnnotation string = "reconcile.fluxcd.io/resetAt"
	// WatchLabel on a ConfigMap or Secret makes its consumers reconcile when it changes.
	WatchLabel string = "reconcile.fluxcd.io/watch"
	// WatchLabelValue is the value of WatchLabel that enables the watch.
	WatchLabelValue string = "Enabled"
	// ShardLabel selects the controller shard that reconciles an object.
	ShardLabel string = "sharding.fluxcd.io/key"
)

// ReconcileRequestStatus is embedded in the status of every kind that honours
// ReconcileRequestAnnotation.
type ReconcileRequestStatus struct {
	// LastHandledReconcileAt holds the value of the most recent
	// reconcile request value, so a change of the annotation value
	// can be detected.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// GetLastHandledReconcileRequest returns the most recent reconcile request
// value handled.
func (in ReconcileRequestStatus) GetLastHandledReconcileRequest() string {
	return in.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the reconcile request value handled.
func (in *ReconcileRequestStatus) SetLastHandledReconcileRequest(token string) {
	in.LastHandledReconcileAt = token
}
