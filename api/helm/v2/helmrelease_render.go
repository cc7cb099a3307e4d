package v2

import (
	"github.com/driftless/driftless/api/meta"
)

// Values of spec.postRenderStrategy.
const (
	// PostRenderNoHooks keeps hooks away from the post-renderers (Helm 3).
	PostRenderNoHooks = "nohooks"
	// PostRenderCombined passes hooks and templates together. It is the
	// default.
	PostRenderCombined = "combined"
	// PostRenderSeparate passes hooks and templates in separate streams.
	PostRenderSeparate = "separate"
)

// Values of spec.waitStrategy.name.
const (
	// WaitStrategyPoller waits with kstatus readiness rules. It is the
	// default.
	WaitStrategyPoller = "poller"
	// WaitStrategyLegacy waits the way Helm 3 did.
	WaitStrategyLegacy = "legacy"
)

// PostRenderer changes the manifests rendered from the chart.
type PostRenderer struct {
	// Kustomize applies kustomize patches and image overrides.
	// +optional
	Kustomize *Kustomize `json:"kustomize,omitempty"`
}

// Kustomize is a post-renderer made of kustomize patches and images.
type Kustomize struct {
	// Patches are inline strategic-merge or JSON6902 patches, each applied
	// to the objects its target selects.
	// +optional
	Patches []meta.Patch `json:"patches,omitempty"`

	// Images override image names, tags or digests.
	// +optional
	Images []meta.Image `json:"images,omitempty"`
}

// WaitStrategy chooses how readiness is awaited after an action.
type WaitStrategy struct {
	// Name of the strategy: poller (kstatus, default) or legacy (Helm 3).
	// +kubebuilder:validation:Enum=poller;legacy
	// +required
	Name string `json:"name"`
}

// DriftDetectionMode says how differences between the release manifest and
// the cluster are handled.
type DriftDetectionMode string

// Values of spec.driftDetection.mode.
const (
	// DriftDetectionEnabled detects drift and corrects it.
	DriftDetectionEnabled DriftDetectionMode = "enabled"
	// DriftDetectionWarn detects drift and reports it without correcting.
	DriftDetectionWarn DriftDetectionMode = "warn"
	// DriftDetectionDisabled does not look for drift. It is the default.
	DriftDetectionDisabled DriftDetectionMode = "disabled"
)

// DriftDetection configures the comparison of the release manifest with the
// objects in the cluster.
type DriftDetection struct {
	// Mode is enabled (detect and correct), warn (detect and report) or
	// disabled (default).
	// +kubebuilder:validation:Enum=enabled;warn;disabled
	// +optional
	Mode DriftDetectionMode `json:"mode,omitempty"`

	// Ignore lists fields left out of the comparison.
	// +optional
	Ignore []IgnoreRule `json:"ignore,omitempty"`
}

// IgnoreRule leaves some fields of some objects out of drift detection.
type IgnoreRule struct {
	// Paths are JSON Pointers (RFC 6901) to the ignored fields; escape '/'
	// in a key as '~1'.
	// +required
	Paths []string `json:"paths"`

	// Target selects the objects the rule applies to; all objects of the
	// release when unset.
	// +optional
	Target *meta.Selector `json:"target,omitempty"`
}

// GetDriftDetectionMode returns spec.driftDetection.mode, disabled when
// unset.
func (in *HelmRelease) GetDriftDetectionMode() DriftDetectionMode {
	if in.Spec.DriftDetection == nil || in.Spec.DriftDetection.Mode == "" {
		return DriftDetectionDisabled
	}
	return in.Spec.DriftDetection.Mode
}
