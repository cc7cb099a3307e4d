package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/install"
)

// installOwner is the field manager and label group `flux install` applies
// with, Flux's own CLI's.
var installOwner = apply.Owner{Field: "flux", Group: "fluxcd.io"}

func newInstallCommand(f *Factory, version string) *cobra.Command {
	o := install.DefaultOptions(version)
	var export bool
	extras := &installExtras{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install or upgrade the Driftless controller and CRDs",
		Long: `Install applies the Driftless CRDs, the controllers' namespace, RBAC, Deployments,
Services and NetworkPolicies with server-side apply and waits until the controllers
are ready. Re-running it upgrades the install in place; --export prints the
manifests instead of applying them.

By default one driftless-controller Deployment runs every controller, bound to
cluster-admin. --split installs Flux's layout instead: a source-controller and a
kustomize-controller Deployment, each with its own ServiceAccount, where only
kustomize-controller (the applier) is bound to cluster-admin and source-controller,
which runs the Git client and the artifact server, may only read its kinds and get
the Secrets they name. --multi-tenant is Flux's multi-tenancy lockdown on top of
--split: kustomize-controller runs with --no-cross-namespace-refs=true,
--no-remote-bases=true and --default-service-account=default, so a tenant's
Kustomization applies as a ServiceAccount of its namespace. (A Kustomization that
must keep cluster-admin, such as flux-system's, sets
spec.serviceAccountName: kustomize-controller.) Switching layouts deletes the
other layout's Deployments, ServiceAccounts and RBAC.

--components-extra source-watcher adds the ArtifactGenerator controller, as Flux's:
in the single layout driftless-controller runs it and serves the ExternalArtifacts
it writes with every other artifact; with --split it is Flux's source-watcher
Deployment with its own storage and artifact server (Service source-watcher),
which kustomize-controller and helm-controller trust through --artifact-servers.
Their ExternalArtifact feature gate is on by default in Driftless, so, unlike
Flux, the install adds no --feature-gates for it.`,
		Example: `  # Install into flux-system
  flux install

  # Print the manifests for a GitOps repository
  flux install --export > gotk-components.yaml

  # Install only the source controller, watching one namespace
  flux install --components=source-controller --watch-all-namespaces=false

  # Install Flux's layout with the multi-tenancy lockdown
  flux install --multi-tenant

  # Add the ArtifactGenerator controller
  flux install --components-extra source-watcher`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Namespace = f.SystemNamespace()
			if err := extras.check(o); err != nil {
				return err
			}
			if export {
				return exportComponents(f.Out, o)
			}
			hooks, err := extras.hooks(cmd.Context(), f, o)
			if err != nil {
				return err
			}
			return installComponents(cmd.Context(), f, o, hooks)
		},
	}
	addInstallFlags(cmd.Flags(), &o)
	extras.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&export, "export", false, "write the install manifests to stdout and exit, without a cluster")
	cmd.Flags().BoolVar(&o.MultiTenant, "multi-tenant", false, "lock tenants down as Flux's multi-tenancy guide does: "+
		"implies --split, and kustomize-controller refuses cross-namespace references and remote bases "+
		"and impersonates the namespace's default ServiceAccount when a Kustomization names none")
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
// server-side apply (CRDs and the namespace first), deletes what an install
// of the other layout left, prints Flux's progress on f.Err, and waits
// (bounded by f.Timeout) until the controller Deployments are Available.
// Selected components that Driftless does not implement yet are reported,
// not refused. hooks are what `flux install` and `flux bootstrap` add with
// --registry-creds and --force (see installHooks).
func installComponents(ctx context.Context, f *Factory, o install.Options, hooks installHooks) error {
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
	applyOpts := installApplyOptions(o, f.Timeout)
	applyOpts.OverrideManagers = hooks.overrideManagers
	cs, err := mgr.ApplyAll(ctx, objs, applyOpts)
	printChangeSet(w, cs)
	if err != nil {
		return fmt.Errorf("install failed: %w", err)
	}
	if err := deleteOtherLayout(ctx, w, mgr, o, applyOpts.OwnerLabels); err != nil {
		return err
	}
	if hooks.afterApply != nil {
		if err := hooks.afterApply(ctx); err != nil {
			return fmt.Errorf("install failed: %w", err)
		}
	}
	fmt.Fprintln(w, "✔ install completed")
	fmt.Fprintln(w, "◎ verifying installation")
	names, err := o.Deployments()
	if err != nil {
		return err
	}
	if err := waitDeployments(ctx, f, o.Namespace, names, f.Timeout); err != nil {
		return err
	}
	for _, name := range names {
		fmt.Fprintf(w, "✔ %s: deployment ready\n", name)
	}
	fmt.Fprintln(w, "✔ install finished")
	return nil
}

// deleteOtherLayout deletes what an install of the other layout (single or
// split) left in the cluster, so that its controllers do not keep running
// beside the new ones. Only objects carrying the install's labels go.
func deleteOtherLayout(ctx context.Context, w io.Writer, mgr *apply.Manager, o install.Options, labels map[string]string) error {
	stale, err := install.Stale(o)
	if err != nil {
		return err
	}
	var refs []apply.ObjectRef
	for _, obj := range stale {
		refs = append(refs, apply.RefOf(obj))
	}
	cs, err := mgr.Prune(ctx, refs, apply.PruneOptions{OwnerLabels: labels})
	printChangeSet(w, cs)
	if err != nil {
		return fmt.Errorf("deleting the previous layout's controllers: %w", err)
	}
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

// waitController waits until the controller Deployments installed in ns,
// of either layout, are Available with their current generation.
func waitController(ctx context.Context, f *Factory, ns string, timeout time.Duration) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	var names []string
	for _, name := range install.AllDeployments() {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &appsv1.Deployment{})
		switch {
		case err == nil:
			names = append(names, name)
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("reading deployment %s/%s: %w", ns, name, err)
		}
	}
	if len(names) == 0 {
		names = []string{install.DeploymentName} // waited for, so that the error says which
	}
	return waitDeployments(ctx, f, ns, names, timeout)
}

// waitDeployments waits until the Deployments ns/names are Available with
// their current generation.
func waitDeployments(ctx context.Context, f *Factory, ns string, names []string, timeout time.Duration) error {
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
	var refs []health.ObjectRef
	for _, name := range names {
		refs = append(refs, health.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: name})
	}
	if _, err := checker.Wait(ctx, refs, health.WaitOptions{Timeout: timeout}); err != nil {
		return fmt.Errorf("%s: deployment not ready: %w; see kubectl -n %s describe deployment",
			strings.Join(names, ", "), err, ns)
	}
	return nil
}
