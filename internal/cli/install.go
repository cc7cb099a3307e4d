package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/driftless/driftless/internal/apply"
	"github.com/driftless/driftless/internal/health"
	"github.com/driftless/driftless/internal/install"
)

// installOwner is the field manager and label group `flux install` applies
// with, Flux's own CLI's.
var installOwner = apply.Owner{Field: "flux", Group: "fluxcd.io"}

func newInstallCommand(f *Factory, version string) *cobra.Command {
	o := install.DefaultOptions(version)
	var export bool
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install or upgrade the Driftless controller and CRDs",
		Long: `Install applies the Driftless CRDs, the controller's namespace, RBAC, Deployment,
Services and NetworkPolicies with server-side apply and waits until the controller
is ready. Re-running it upgrades the install in place; --export prints the
manifests instead of applying them.`,
		Example: `  # Install into flux-system
  flux install

  # Print the manifests for a GitOps repository
  flux install --export > gotk-components.yaml

  # Install only the source controller, watching one namespace
  flux install --components=source-controller --watch-all-namespaces=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Namespace = f.SystemNamespace()
			if export {
				return exportComponents(f.Out, o)
			}
			return installComponents(cmd.Context(), f, o)
		},
	}
	addInstallFlags(cmd.Flags(), &o)
	cmd.Flags().BoolVar(&export, "export", false, "write the install manifests to stdout and exit, without a cluster")
	return cmd
}

// exportComponents writes the manifests of o.
func exportComponents(w io.Writer, o install.Options) error {
	objs, err := install.Render(o)
	if err != nil {
		return err
	}
	data, err := install.YAML(objs, o, "flux install --export")
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// installComponents renders the install manifests for o, applies them with
// server-side apply (CRDs and the namespace first), prints Flux's progress
// on f.Err, and waits (bounded by f.Timeout) until the controller
// Deployment is Available. Selected components that Driftless does not
// implement yet are reported, not refused. bootstrap uses it too.
func installComponents(ctx context.Context, f *Factory, o install.Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	w := f.Err
	fmt.Fprintln(w, "✚ generating manifests")
	_, missing, err := o.Controllers()
	if err != nil {
		return err
	}
	for _, c := range missing {
		fmt.Fprintf(w, "⚠️ %s is not implemented by Driftless yet; it is accepted but nothing runs it\n", c)
	}
	objs, err := install.Render(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "✔ manifests build completed")
	fmt.Fprintf(w, "► installing components in %s namespace\n", o.Namespace)
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	mgr, err := apply.NewForConfig(cfg, installOwner)
	if err != nil {
		return err
	}
	cs, err := mgr.ApplyAll(ctx, objs, installApplyOptions(o, f.Timeout))
	printChangeSet(w, cs)
	if err != nil {
		return fmt.Errorf("install failed: %w", err)
	}
	fmt.Fprintln(w, "✔ install completed")
	fmt.Fprintln(w, "◎ verifying installation")
	if err := waitController(ctx, f, o.Namespace, f.Timeout); err != nil {
		return err
	}
	fmt.Fprintf(w, "✔ %s: deployment ready\n", install.DeploymentName)
	fmt.Fprintln(w, "✔ install finished")
	return nil
}

// installApplyOptions labels every object with the install's instance and
// part-of labels (which uninstall selects by) and forces recreation on
// immutable fields, as `flux install` does on upgrades.
func installApplyOptions(o install.Options, timeout time.Duration) apply.ApplyOptions {
	return apply.ApplyOptions{
		OwnerLabels: map[string]string{install.InstanceLabel: o.Namespace, install.PartOfLabel: install.PartOf},
		Force:       true,
		WaitTimeout: timeout,
	}
}

// printChangeSet writes one "Kind/namespace/name action" line per object.
func printChangeSet(w io.Writer, cs *apply.ChangeSet) {
	if cs == nil {
		return
	}
	for _, e := range cs.Entries {
		fmt.Fprintf(w, "%s %s\n", e.Ref, e.Action)
	}
}

// waitController waits until the controller Deployment in ns is Available
// with its current generation.
func waitController(ctx context.Context, f *Factory, ns string, timeout time.Duration) error {
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	checker := health.NewChecker(health.NewCache(dyn, logr.Discard()), mapper, health.CheckerOptions{})
	ref := health.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: install.DeploymentName}
	if _, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{Timeout: timeout}); err != nil {
		return fmt.Errorf("%s: deployment not ready: %w; see kubectl -n %s describe deployment %s",
			install.DeploymentName, err, ns, install.DeploymentName)
	}
	return nil
}
