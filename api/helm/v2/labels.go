package v2

// Labels and annotations the helm controller writes on released objects or
// reads from them.
const (
	// NameLabel is set on every released object, and on the generated
	// HelmChart, to the HelmRelease name.
	NameLabel = "helm.toolkit.fluxcd.io/name"
	// NamespaceLabel is set on every released object, and on the generated
	// HelmChart, to the HelmRelease namespace.
	NamespaceLabel = "helm.toolkit.fluxcd.io/namespace"

	// DriftDetectionKey, as a label or annotation set to
	// DriftDetectionDisabledValue, keeps an object out of drift detection.
	DriftDetectionKey = "helm.toolkit.fluxcd.io/driftDetection"
	// DriftDetectionDisabledValue is the value of DriftDetectionKey that
	// turns drift detection off for the object.
	DriftDetectionDisabledValue = "disabled"
)

// Keys of the metadata attached to the controller's events.
const (
	// RevisionEventKey carries the chart version of the release.
	RevisionEventKey = "helm.toolkit.fluxcd.io/revision"
	// AppVersionEventKey carries the app version of the chart.
	AppVersionEventKey = "helm.toolkit.fluxcd.io/app-version"
	// OCIDigestEventKey carries the digest of the OCI chart artifact.
	OCIDigestEventKey = "helm.toolkit.fluxcd.io/oci-digest"
)
