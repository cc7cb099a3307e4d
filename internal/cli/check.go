package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// minKubernetesVersion is the oldest Kubernetes `flux check --pre` accepts,
// Flux 2.9's.
const minKubernetesVersion = "1.33.0-0"

// exitCheckFailed is the exit code of a failed check, Flux's.
const exitCheckFailed = 1

func newCheckCommand(f *Factory, version string) *cobra.Command {
	o := install.DefaultOptions(version)
	var pre bool
	var pollInterval time.Duration
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the prerequisites and the installed components",
		Long: `Check verifies that the cluster runs a Kubernetes version Driftless supports and,
unless --pre is set, that the controller installed in the system namespace is
ready, that it runs every component --components and --components-extra name
(source-watcher included: its own Deployment in the split layout, a group in
driftless-controller's --controllers in the single one), and that every
toolkit CRD is established. It waits up to --timeout for a controller that is
starting, and exits non-zero when a check fails.`,
		Example: `  # Before installing
  flux check --pre

  # After installing
  flux check

  # After flux install --components-extra source-watcher
  flux check --components-extra source-watcher`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Namespace = f.SystemNamespace()
			if _, _, err := o.Controllers(); err != nil {
				return err
			}
			ok, err := runChecks(contextOf(cmd), f, o, pre)
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintln(f.Err, "✗ check failed")
				return &ExitError{Code: exitCheckFailed}
			}
			fmt.Fprintln(f.Err, "✔ all checks passed")
			return nil
		},
	}
	cmd.Flags().BoolVar(&pre, "pre", false, "only check the prerequisites")
	cmd.Flags().StringSliceVar(&o.Components, "components", o.Components, "controllers expected to be installed")
	cmd.Flags().StringSliceVar(&o.ComponentsExtra, "components-extra", o.ComponentsExtra, "additional controllers expected to be installed")
	cmd.Flags().DurationVar(&pollInterval, "poll-interval", 5*time.Second,
		"accepted for compatibility; readiness is watched, not polled")
	return cmd
}

// runChecks prints each check's result on f.Err and tells whether all
// passed; the error is for checks that could not run at all.
func runChecks(ctx context.Context, f *Factory, o install.Options, pre bool) (bool, error) {
	w := f.Err
	fmt.Fprintln(w, "► checking prerequisites")
	ok, err := checkKubernetesVersion(w, f)
	if err != nil {
		return false, err
	}
	if pre {
		if ok {
			fmt.Fprintln(w, "✔ prerequisites checks passed")
		}
		return ok, nil
	}
	fmt.Fprintln(w, "► checking version in cluster")
	inst, err := readInstallation(ctx, f, o.Namespace)
	if err != nil {
		return false, err
	}
	if !inst.Installed() || len(inst.Deployments) == 0 {
		fmt.Fprintf(w, "✗ Driftless is not installed in namespace %s; run flux install -n %s\n", o.Namespace, o.Namespace)
		return false, nil
	}
	fmt.Fprintf(w, "✔ distribution: %s\n", inst.Distribution())
	fmt.Fprintf(w, "✔ bootstrapped: %t\n", inst.Bootstrapped())

	fmt.Fprintln(w, "► checking controllers")
	groups, missing, _ := o.Controllers()
	for _, m := range missing {
		fmt.Fprintf(w, "⚠️ %s: not implemented by Driftless yet, not checked\n", m)
	}
	if err := waitController(ctx, f, o.Namespace, f.Timeout); err != nil {
		fmt.Fprintf(w, "✗ %v\n", err)
		ok = false
	} else {
		for _, d := range inst.Deployments {
			fmt.Fprintf(w, "✔ %s: deployment ready\n", d.Name)
			fmt.Fprintf(w, "► %s\n", image(d))
		}
	}
	if !checkComponents(w, o.Namespace, groups, inst.Deployments, install.Implemented) {
		ok = false
	}

	fmt.Fprintln(w, "► checking crds")
	crdsOK, err := checkCRDs(ctx, w, f, o)
	if err != nil {
		return false, err
	}
	return ok && crdsOK, nil
}

// checkKubernetesVersion compares the server's version with the minimum.
func checkKubernetesVersion(w io.Writer, f *Factory) (bool, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return false, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false, err
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return false, fmt.Errorf("reading the Kubernetes version: %w", err)
	}
	have, err := utilversion.ParseSemantic(info.GitVersion)
	if err != nil {
		return false, fmt.Errorf("the server reports an unparsable version %q: %w", info.GitVersion, err)
	}
	if !versionAtLeast(have, minKubernetesVersion) {
		fmt.Fprintf(w, "✗ Kubernetes version %s does not match >=%s; upgrade the cluster\n", have, minKubernetesVersion)
		return false, nil
	}
	fmt.Fprintf(w, "✔ Kubernetes %s >=%s\n", have, minKubernetesVersion)
	return true, nil
}

// versionAtLeast compares have with a minimum whose "-0" pre-release
// suffix, as in semver ranges, lets pre-releases of that version pass.
func versionAtLeast(have *utilversion.Version, minimum string) bool {
	return have.AtLeast(utilversion.MustParseSemantic(minimum))
}

// checkCRDs checks every CRD the install ships: present, Established, and
// serving the version the manifests store.
func checkCRDs(ctx context.Context, w io.Writer, f *Factory, o install.Options) (bool, error) {
	objs, err := install.Render(o)
	if err != nil {
		return false, err
	}
	c, err := f.Client()
	if err != nil {
		return false, err
	}
	ok := true
	for _, obj := range objs {
		if obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		name := obj.GetName()
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(obj.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKey{Name: name}, live); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, fmt.Errorf("reading CRD %s: %w", name, err)
			}
			fmt.Fprintf(w, "✗ %s: not found; run flux install -n %s\n", name, o.Namespace)
			ok = false
			continue
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, &crd); err != nil {
			return false, fmt.Errorf("reading CRD %s: %w", name, err)
		}
		if !crdEstablished(&crd) {
			fmt.Fprintf(w, "✗ %s: not established\n", name)
			ok = false
			continue
		}
		fmt.Fprintf(w, "✔ %s/%s\n", name, storageVersion(&crd))
	}
	return ok, nil
}

func crdEstablished(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

func storageVersion(crd *apiextensionsv1.CustomResourceDefinition) string {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			return v.Name
		}
	}
	return "?"
}
