package v1

// Labels and annotations the kustomize controller writes on applied objects
// or reads from manifests and from objects in the cluster. Values are
// compared without regard to case.
const (
	// NameLabel is set on every applied object to the Kustomization name.
	NameLabel = "kustomize.toolkit.fluxcd.io/name"
	// NamespaceLabel is set on every applied object to the Kustomization
	// namespace.
	NamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"

	// SSAKey chooses how an object is applied: SSAOverride (default),
	// SSAMerge, SSAIfNotPresent or SSAIgnore.
	SSAKey = "kustomize.toolkit.fluxcd.io/ssa"
	// ForceKey set to EnabledValue recreates the object when an update hits
	// an immutable field.
	ForceKey = "kustomize.toolkit.fluxcd.io/force"
	// PruneKey set to DisabledValue keeps the object out of garbage
	// collection.
	PruneKey = "kustomize.toolkit.fluxcd.io/prune"
	// ReconcileKey set to DisabledValue skips both apply and prune.
	ReconcileKey = "kustomize.toolkit.fluxcd.io/reconcile"
	// SubstituteKey set to DisabledValue turns off variable substitution for
	// the object.
	SubstituteKey = "kustomize.toolkit.fluxcd.io/substitute"
	// DecryptKey set to DisabledValue turns off SOPS decryption for the
	// object.
	DecryptKey = "kustomize.toolkit.fluxcd.io/decrypt"
)

// Values of the keys above.
const (
	// EnabledValue turns a per-object option on.
	EnabledValue = "enabled"
	// DisabledValue turns a per-object option off.
	DisabledValue = "disabled"

	// SSAOverride applies the object and takes over conflicting fields.
	SSAOverride = "Override"
	// SSAMerge applies the object but keeps fields set by other managers.
	SSAMerge = "Merge"
	// SSAIfNotPresent creates the object but never updates it.
	SSAIfNotPresent = "IfNotPresent"
	// SSAIgnore neither applies nor prunes the object.
	SSAIgnore = "Ignore"
)

// Keys of the metadata attached to the controller's events.
const (
	// RevisionEventKey carries the applied source revision.
	RevisionEventKey = "kustomize.toolkit.fluxcd.io/revision"
	// OriginRevisionEventKey carries the origin revision of the artifact.
	OriginRevisionEventKey = "kustomize.toolkit.fluxcd.io/originRevision"
	// CommitStatusEventKey is set to CommitStatusUpdateValue on a successful
	// reconciliation, so notification providers update the commit status.
	CommitStatusEventKey = "kustomize.toolkit.fluxcd.io/commit_status"
	// CommitStatusUpdateValue is the value of CommitStatusEventKey.
	CommitStatusUpdateValue = "update"
	// EventMetadataAnnotationPrefix marks annotations of a Kustomization
	// that are copied into the metadata of its events.
	EventMetadataAnnotationPrefix = "event.toolkit.fluxcd.io/"
)

// FieldManager is the server-side apply field manager of everything a
// Kustomization applies, as kustomize-controller's.
const FieldManager = "kustomize-controller"
