package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/driftless/driftless/internal/install"
)

// checkComponents tells whether each group `flux check` expects (the
// --components and --components-extra it selects and Driftless runs) is
// run by one of the installed controller Deployments: in the split layout,
// the group's own Deployment (source-watcher's is source-watcher); in the
// single layout, driftless-controller with the group in its --controllers.
// Flux checks each component's Deployment; the single layout has one
// Deployment for all, so its --controllers is what says which run. A
// Deployment without --controllers runs every group of implemented.
func checkComponents(w io.Writer, ns string, groups []string, deployments []*appsv1.Deployment, implemented []string) bool {
	ok := true
	for _, g := range groups {
		component := install.SplitDeployments[g]
		i := slices.IndexFunc(deployments, func(d *appsv1.Deployment) bool {
			return slices.Contains(deploymentGroups(d, implemented), g)
		})
		switch {
		case i < 0:
			fmt.Fprintf(w, "✗ %s: no controller Deployment in %s runs it; install it with flux install -n %s %s %s\n",
				component, ns, ns, componentsFlag(component), component)
			ok = false
		case deployments[i].Name != component:
			fmt.Fprintf(w, "✔ %s: run by %s\n", component, deployments[i].Name)
		}
	}
	return ok
}

// deploymentGroups are the groups d runs: its container's --controllers,
// or every implemented group when it has none.
func deploymentGroups(d *appsv1.Deployment, implemented []string) []string {
	cs := d.Spec.Template.Spec.Containers
	if len(cs) == 0 {
		return nil
	}
	for _, a := range cs[0].Args {
		if v, ok := strings.CutPrefix(a, "--controllers="); ok {
			return strings.Split(v, ",")
		}
	}
	return implemented
}

// componentsFlag is the install flag that selects component: Flux's
// default four are --components, the others --components-extra.
func componentsFlag(component string) string {
	if slices.Contains(install.Components[:4], component) {
		return "--components"
	}
	return "--components-extra"
}
