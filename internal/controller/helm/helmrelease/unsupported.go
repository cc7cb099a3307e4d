package helmrelease

import (
	"context"
	"fmt"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
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
	case s.Install != nil && s.Install.CRDs == helmv2.CreateReplace:
		field, instead = "spec.install.crds CreateReplace", "use Create or Skip"
	case s.Upgrade != nil && s.Upgrade.CRDs != "" && s.Upgrade.CRDs != helmv2.Skip:
		field, instead = fmt.Sprintf("spec.upgrade.crds %s", s.Upgrade.CRDs), "use Skip (Helm's own upgrade leaves CRDs alone)"
	}
	if field == "" {
		return nil
	}
	return reconcile.Stalling(notBuiltReason, "%s is not supported by Driftless yet; %s (see the README's feature table)", field, instead)
}
