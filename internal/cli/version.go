package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// distributionPrefix names the distribution, as Flux's "flux-v2.9.0".
const distributionPrefix = "driftless-"

func newVersionCommand(version string, f *Factory) *cobra.Command {
	var clientOnly bool
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client version and the version installed in the cluster",
		Long: `Version prints the version of this command line and, unless --client is set, the
distribution installed in the system namespace (-n, FLUX_SYSTEM_NAMESPACE or
flux-system) and the image of its controller.`,
		Example: `  flux version
  flux version --client
  flux version -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "yaml" && output != "json" {
				return fmt.Errorf("invalid output %q; use yaml or json", output)
			}
			info := [][2]string{{"flux", version}}
			if !clientOnly {
				ns := f.SystemNamespace()
				inst, err := readInstallation(contextOf(cmd), f, ns)
				if err != nil {
					return err
				}
				if !inst.Installed() {
					return fmt.Errorf("Driftless is not installed in namespace %s; run flux install or use --client", ns)
				}
				info = append(info, [2]string{"distribution", inst.Distribution()})
				for _, d := range inst.Deployments {
					info = append(info, [2]string{d.Name, image(d)})
				}
			}
			return printVersion(f.Out, output, info)
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only the client version, without contacting the cluster")
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: yaml or json (default text)")
	return cmd
}

func printVersion(w io.Writer, output string, info [][2]string) error {
	if output == "" {
		for _, kv := range info {
			if _, err := fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	}
	doc := map[string]any{}
	for _, kv := range info {
		doc[kv[0]] = kv[1]
	}
	return encodeDoc(w, output, doc)
}

// installation is what the cluster says about an install: its namespace,
// nil when absent, and its controller Deployments (one, or one per
// controller of a split install).
type installation struct {
	Namespace   *corev1.Namespace
	Deployments []*appsv1.Deployment
}

// image is the controller container's image of d.
func image(d *appsv1.Deployment) string {
	if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
		return cs[0].Image
	}
	return ""
}

// Installed tells whether the namespace carries an install's labels.
func (i installation) Installed() bool {
	return i.Namespace != nil && i.Namespace.Labels[install.PartOfLabel] == install.PartOf &&
		i.Namespace.Labels[install.VersionLabel] != ""
}

// Distribution is "driftless-<version>".
func (i installation) Distribution() string {
	return distributionPrefix + i.Namespace.Labels[install.VersionLabel]
}

// Bootstrapped tells whether a Kustomization manages the namespace, which
// is how `flux bootstrap` leaves it.
func (i installation) Bootstrapped() bool {
	return i.Namespace != nil && i.Namespace.Labels["kustomize.toolkit.fluxcd.io/name"] != ""
}

// readInstallation reads the namespace ns and the controller Deployments in
// it, of either layout; absent objects are left out, not errors.
func readInstallation(ctx context.Context, f *Factory, ns string) (installation, error) {
	var inst installation
	c, err := f.Client()
	if err != nil {
		return inst, err
	}
	var nsObj corev1.Namespace
	switch err := c.Get(ctx, client.ObjectKey{Name: ns}, &nsObj); {
	case apierrors.IsNotFound(err):
		return inst, nil
	case err != nil:
		return inst, fmt.Errorf("reading namespace %s: %w", ns, err)
	}
	inst.Namespace = &nsObj
	for _, name := range install.AllDeployments() {
		var d appsv1.Deployment
		switch err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return inst, fmt.Errorf("reading deployment %s/%s: %w", ns, name, err)
		}
		inst.Deployments = append(inst.Deployments, &d)
	}
	return inst, nil
}

// contextOf is the command's context, or a background one when the command
// runs without (as in tests that call RunE directly).
func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
