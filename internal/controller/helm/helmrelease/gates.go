package helmrelease

import (
	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/release"
)

// Gates are helm-controller's feature gates (--feature-gates) that act in
// this package. The zero value is every gate at its default.
type Gates struct {
	// DefaultToRetryOnFailure makes RetryOnFailure the install and upgrade
	// strategy where the spec sets none.
	DefaultToRetryOnFailure bool
	// DisableChartDigestTracking leaves the +<digest> off an OCIRepository
	// chart's version: a new digest of the same version does not upgrade.
	DisableChartDigestTracking bool
	// DisableConfigWatchers drops the valuesFrom ConfigMap and Secret
	// watches: new values are read at the next pass only.
	DisableConfigWatchers bool
	// UseHelm3Defaults: client-side apply for installs, Helm's legacy
	// waiter and the nohooks post-render strategy, where the spec sets
	// none.
	UseHelm3Defaults bool
	// AllowDNSLookups lets templates resolve names (getHostByName).
	AllowDNSLookups bool
	// NoExternalArtifact is ExternalArtifact=false: an ExternalArtifact
	// chartRef stalls naming the gate.
	NoExternalArtifact bool
}

// remediationSpec is the spec the remediation decisions read: obj's, with
// RetryOnFailure as the default strategy under DefaultToRetryOnFailure.
func (r *Reconciler) remediationSpec(obj *helmv2.HelmRelease) *helmv2.HelmReleaseSpec {
	if r.Gates.DefaultToRetryOnFailure {
		return release.WithDefaultStrategy(&obj.Spec, helmv2.RetryOnFailure)
	}
	return &obj.Spec
}

// waitStrategyName is spec.waitStrategy's name, or the default: Helm's
// legacy waiter under UseHelm3Defaults, else "" (kstatus health).
func (r *Reconciler) waitStrategyName(obj *helmv2.HelmRelease) string {
	if name := waitStrategyName(obj); name != "" {
		return name
	}
	if r.Gates.UseHelm3Defaults {
		return "legacy"
	}
	return ""
}

// installSSA is whether an install applies server-side: install.serverSideApply,
// else true (Helm 4), or false under UseHelm3Defaults. Upgrades and
// rollbacks follow the release ("auto") either way, as Flux's do.
func (r *Reconciler) installSSA(in *helmv2.Install) bool {
	if in.ServerSideApply != nil {
		return *in.ServerSideApply
	}
	return !r.Gates.UseHelm3Defaults
}
