// Package imageautomation is the image-automation controller group: it
// runs the ImageUpdateAutomation controller, which commits the images the
// ImagePolicies pick back to Git.
package imageautomation

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/controller/imageautomation/imageupdateautomation"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Name is the group's name in --controllers.
const Name = "image-automation"

// Controller is the image-automation group as driftless-controller runs it.
func Controller() manager.Controller {
	return manager.Controller{
		Name:    Name,
		Objects: []client.Object{&imagev1.ImageUpdateAutomation{}},
		Setup:   setup,
		Gates:   Gates,
	}
}

// Gates are image-automation-controller's feature gates with Flux's
// defaults; those Driftless does not build take only their default.
// CacheSecretsAndConfigMaps is the helm group's (this controller reads
// Secrets directly).
var Gates = []features.Gate{
	{Name: "GitForcePushBranch", Default: true, Unsupported: "Driftless always force-pushes a push branch other than the checkout branch"},
	{Name: "GitShallowClone", Default: true, Unsupported: "Driftless fetches a branch it pushes to in full, to re-apply the setters after a lost race"},
	{Name: "GitAllBranchReferences", Default: true, Unsupported: "Driftless fetches only the branch it checks out"},
	{Name: "GitSparseCheckout", Unsupported: "Driftless does not build sparse checkouts for image automation"},
	{Name: "CacheSecretsAndConfigMaps"},
	{Name: "ObjectLevelWorkloadIdentity", Unsupported: "Driftless does not build cloud workload identity"},
}

func setup(mgr ctrl.Manager, deps manager.Deps) error {
	r := &imageupdateautomation.Reconciler{
		Client:               mgr.GetClient(),
		Secrets:              mgr.GetAPIReader(),
		Git:                  &git.Client{},
		NoCrossNamespaceRefs: deps.Options.NoCrossNamespaceRefs,
	}
	return reconcile.Start(context.Background(), mgr, r.Kind(), deps.Runtime(mgr, "image-automation-controller"))
}
