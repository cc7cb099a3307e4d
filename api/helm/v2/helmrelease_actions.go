package v2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CRDsPolicy says what an install or upgrade does with the CRDs in the
// chart's crds directory.
type CRDsPolicy string

// Values of install.crds and upgrade.crds.
const (
	// Skip neither creates nor updates CRDs.
	Skip CRDsPolicy = "Skip"
	// Create creates missing CRDs and leaves existing ones alone.
	Create CRDsPolicy = "Create"
	// CreateReplace creates missing CRDs and updates existing ones; CRDs are
	// never deleted.
	CreateReplace CRDsPolicy = "CreateReplace"
)

// Values of install.strategy.name and upgrade.strategy.name.
const (
	// RemediateOnFailure applies the action's remediation settings on
	// failure. It is the default.
	RemediateOnFailure = "RemediateOnFailure"
	// RetryOnFailure retries a failed action every retryInterval without
	// remediation.
	RetryOnFailure = "RetryOnFailure"
)

// RemediationStrategy is how a failed upgrade is remediated.
type RemediationStrategy string

// Values of upgrade.remediation.strategy.
const (
	// RollbackRemediationStrategy rolls back to the previous release.
	RollbackRemediationStrategy RemediationStrategy = "rollback"
	// UninstallRemediationStrategy uninstalls the release.
	UninstallRemediationStrategy RemediationStrategy = "uninstall"
)

// Values of upgrade.serverSideApply and rollback.serverSideApply.
const (
	ServerSideApplyEnabled  = "enabled"
	ServerSideApplyDisabled = "disabled"
	// ServerSideApplyAuto follows what the previous release used.
	ServerSideApplyAuto = "auto"
)

// Values of upgrade.chartNameChangeStrategy.
const (
	// ChartNameChangeReinstall uninstalls the release and installs the new
	// chart. It is the default.
	ChartNameChangeReinstall = "Reinstall"
	// ChartNameChangeInPlaceUpdate upgrades the release to the new chart.
	ChartNameChangeInPlaceUpdate = "InPlaceUpdate"
)

// Values of uninstall.deletionPropagation.
const (
	DeletionPropagationBackground = "background"
	DeletionPropagationForeground = "foreground"
	DeletionPropagationOrphan     = "orphan"
)

// Install configures Helm install actions.
type Install struct {
	// Timeout bounds each Kubernetes operation of the install. Defaults to
	// spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Strategy says what happens when the install fails. Defaults to
	// RemediateOnFailure.
	// +optional
	Strategy *InstallStrategy `json:"strategy,omitempty"`

	// Remediation configures retries and uninstalls after a failed install,
	// under the RemediateOnFailure strategy.
	// +optional
	Remediation *InstallRemediation `json:"remediation,omitempty"`

	// DisableTakeOwnership stops Helm from adopting existing objects that
	// the chart renders.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// DisableWait does not wait for the objects to become ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs does not wait for Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks skips the chart hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating the rendered manifests
	// against the Kubernetes OpenAPI schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation skips validating the values against the
	// chart's JSON schema.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// Replace reuses the release name when it belongs to a deleted release
	// still in the history.
	// +optional
	Replace bool `json:"replace,omitempty"`

	// SkipCRDs does not install CRDs.
	//
	// Deprecated: set CRDs to Skip.
	// +optional
	SkipCRDs bool `json:"skipCRDs,omitempty"`

	// CRDs is the CRD policy of the install: Skip, Create (default) or
	// CreateReplace.
	// +kubebuilder:validation:Enum=Skip;Create;CreateReplace
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// CreateNamespace creates the target namespace when missing; it is not
	// deleted on uninstall.
	// +optional
	CreateNamespace bool `json:"createNamespace,omitempty"`

	// ServerSideApply applies the objects with server-side apply. Defaults
	// to true (false with the UseHelm3Defaults feature gate).
	// +optional
	ServerSideApply *bool `json:"serverSideApply,omitempty"`
}

// InstallStrategy says what happens when an install fails.
// +kubebuilder:validation:XValidation:rule="!has(self.retryInterval) || self.name != 'RemediateOnFailure'",message=".retryInterval cannot be set when .name is 'RemediateOnFailure'"
type InstallStrategy struct {
	// Name of the strategy: RemediateOnFailure or RetryOnFailure.
	// +kubebuilder:validation:Enum=RemediateOnFailure;RetryOnFailure
	// +required
	Name string `json:"name"`

	// RetryInterval is the wait between retries under RetryOnFailure, where
	// a failed install is retried as an upgrade. Defaults to 5m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`
}

// InstallRemediation configures what follows a failed install.
type InstallRemediation struct {
	// Retries is the number of retries after a failure, with an uninstall
	// before each; a negative number retries forever. Defaults to 0.
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures does not remediate when the tests after an install
	// fail. Defaults to test.ignoreFailures.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure uninstalls after the last failure too, once no
	// retries remain. Defaults to false.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`
}

// Upgrade configures Helm upgrade actions.
type Upgrade struct {
	// Timeout bounds each Kubernetes operation of the upgrade. Defaults to
	// spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Strategy says what happens when the upgrade fails. Defaults to
	// RemediateOnFailure.
	// +optional
	Strategy *UpgradeStrategy `json:"strategy,omitempty"`

	// Remediation configures retries, rollbacks and uninstalls after a
	// failed upgrade, under the RemediateOnFailure strategy.
	// +optional
	Remediation *UpgradeRemediation `json:"remediation,omitempty"`

	// DisableTakeOwnership stops Helm from adopting existing objects that
	// the chart renders.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// DisableWait does not wait for the objects to become ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs does not wait for Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks skips the chart hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating the rendered manifests
	// against the Kubernetes OpenAPI schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation skips validating the values against the
	// chart's JSON schema.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// Force replaces objects that cannot be updated in place.
	// +optional
	Force bool `json:"force,omitempty"`

	// PreserveValues reuses the values of the last release and merges the
	// new ones on top, which makes the HelmRelease non-declarative.
	// +optional
	PreserveValues bool `json:"preserveValues,omitempty"`

	// CleanupOnFail deletes the objects a failed upgrade created.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// CRDs is the CRD policy of the upgrade: Skip (default), Create or
	// CreateReplace.
	// +kubebuilder:validation:Enum=Skip;Create;CreateReplace
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// ServerSideApply is enabled, disabled or auto (default: as the previous
	// release was applied).
	// +kubebuilder:validation:Enum=enabled;disabled;auto
	// +optional
	ServerSideApply string `json:"serverSideApply,omitempty"`

	// ChartNameChangeStrategy says what happens when the chart name
	// changes: Reinstall (default; uninstall, then install) or
	// InPlaceUpdate (upgrade).
	// +kubebuilder:validation:Enum=InPlaceUpdate;Reinstall
	// +optional
	ChartNameChangeStrategy string `json:"chartNameChangeStrategy,omitempty"`
}

// UpgradeStrategy says what happens when an upgrade fails.
// +kubebuilder:validation:XValidation:rule="!has(self.retryInterval) || self.name != 'RemediateOnFailure'",message=".retryInterval cannot be set when .name is 'RemediateOnFailure'"
type UpgradeStrategy struct {
	// Name of the strategy: RemediateOnFailure or RetryOnFailure.
	// +kubebuilder:validation:Enum=RemediateOnFailure;RetryOnFailure
	// +required
	Name string `json:"name"`

	// RetryInterval is the wait between retries under RetryOnFailure.
	// Defaults to 5m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`
}

// UpgradeRemediation configures what follows a failed upgrade.
type UpgradeRemediation struct {
	// Retries is the number of retries after a failure, with a remediation
	// before each; a negative number retries forever. Defaults to 0.
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures does not remediate when the tests after an upgrade
	// fail. Defaults to test.ignoreFailures.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure remediates the last failure too, once no retries
	// remain. Defaults to true when Retries is above 0, false otherwise.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`

	// Strategy is the remediation: rollback (default) or uninstall.
	// +kubebuilder:validation:Enum=rollback;uninstall
	// +optional
	Strategy *RemediationStrategy `json:"strategy,omitempty"`
}

// Test configures the Helm tests run after an install or upgrade.
type Test struct {
	// Enable runs the chart's tests after each install or upgrade.
	// +optional
	Enable bool `json:"enable,omitempty"`

	// Timeout bounds each Kubernetes operation of the tests. Defaults to
	// spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// IgnoreFailures does not count failed tests as a failed release. The
	// install and upgrade remediation settings can override it.
	// +optional
	IgnoreFailures bool `json:"ignoreFailures,omitempty"`

	// Filters select the tests to run or to skip.
	// +optional
	Filters []Filter `json:"filters,omitempty"`
}

// Filter selects one test by name.
type Filter struct {
	// Name of the test.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Exclude skips the named test instead of selecting it.
	// +optional
	Exclude bool `json:"exclude,omitempty"`
}

// Rollback configures Helm rollback actions, used by the rollback
// remediation of a failed upgrade.
type Rollback struct {
	// Timeout bounds each Kubernetes operation of the rollback. Defaults to
	// spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DisableWait does not wait for the objects to become ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs does not wait for Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks skips the chart hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// Recreate restarted pods with Helm 3.
	//
	// Deprecated: it has no effect since Flux 2.8.
	// +optional
	Recreate bool `json:"recreate,omitempty"`

	// Force replaces objects that cannot be updated in place.
	// +optional
	Force bool `json:"force,omitempty"`

	// CleanupOnFail deletes the objects a failed rollback created.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// ServerSideApply is enabled, disabled or auto (default: as the release
	// rolled back to was applied).
	// +kubebuilder:validation:Enum=enabled;disabled;auto
	// +optional
	ServerSideApply string `json:"serverSideApply,omitempty"`
}

// Uninstall configures Helm uninstall actions.
type Uninstall struct {
	// Timeout bounds each Kubernetes operation of the uninstall. Defaults to
	// spec.timeout.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DisableHooks skips the chart hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// KeepHistory deletes the objects but keeps the release records,
	// marked as uninstalled.
	// +optional
	KeepHistory bool `json:"keepHistory,omitempty"`

	// DisableWait does not wait for the objects to be deleted.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DeletionPropagation is the propagation policy of the deletes:
	// background (default), foreground or orphan.
	// +kubebuilder:default=background
	// +kubebuilder:validation:Enum=background;foreground;orphan
	// +optional
	DeletionPropagation *string `json:"deletionPropagation,omitempty"`
}
