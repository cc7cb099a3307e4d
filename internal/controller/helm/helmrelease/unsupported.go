package helmrelease

import (
	"context"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// notBuiltReason is the Stalled reason of a field Driftless does not act
// on yet: saying so beats ignoring it.
const notBuiltReason = "NotSupported"

// refuseUnbuilt stalls a HelmRelease that asks for what this controller
// does not do yet, naming the field and what to do instead, rather than
// release something other than what the spec says.
func (r *Reconciler) refuseUnbuilt(_ context.Context, obj *helmv2.HelmRelease, _ *reconcile.Pass, _ *State) error {
	s := obj.Spec
	var field, instead string
	switch {
	case s.KubeConfig != nil:
		field, instead = "spec.kubeConfig (a remote cluster)", "release to the local cluster"
	case s.ChartRef != nil && s.ChartRef.Kind == sourcev1.ExternalArtifactKind:
		field, instead = "spec.chartRef of kind ExternalArtifact", "use an OCIRepository or a HelmChart"
	}
	if field == "" {
		return nil
	}
	return reconcile.Stalling(notBuiltReason, "%s is not supported by Driftless yet; %s (see the README's feature table)", field, instead)
}
