package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

func newDebugCommand(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "debug",
		Short: "Debug a Flux resource",
		Long:  "The debug commands print what Flux works from, to troubleshoot a failing reconciliation.",
	}
	cmd.AddCommand(newDebugKustomizationCommand(f), newDebugHelmReleaseCommand(f))
	return cmd
}

// debugKustomizationOptions are the flags of `flux debug kustomization`;
// exactly one is set.
type debugKustomizationOptions struct {
	status, vars, history bool
}

func newDebugKustomizationCommand(f *Factory) *cobra.Command {
	o := &debugKustomizationOptions{}
	cmd := &cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks"},
		Short:   "Debug a Flux Kustomization",
		Long: `The debug kustomization command prints, for troubleshooting a Kustomization:
its status (--show-status), the final variables of its post-build substitution
(--show-vars: spec.postBuild.substitute over the data of the substituteFrom
ConfigMaps and Secrets, later ones over earlier ones, optional missing ones
skipped, as the controller reads them now) in dotenv format, sorted by name,
or the history of its last reconciliations (--show-history).

WARNING: --show-vars prints the values of the Secrets in spec.postBuild.substituteFrom.`,
		Example: `  # Print the status of a Kustomization
  flux debug ks podinfo --show-status

  # Export the final variables of its post-build substitution
  flux debug ks podinfo --show-vars > vars.env

  # Print the digests and revisions of its last reconciliations
  flux debug ks podinfo --show-history`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set := 0
			for _, b := range []bool{o.status, o.vars, o.history} {
				if b {
					set++
				}
			}
			if set != 1 {
				return errors.New("give exactly one of --show-status, --show-vars or --show-history")
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runDebugKustomization(ctx, f, o, args[0])
		},
	}
	cmd.Flags().BoolVar(&o.status, "show-status", false, "print the status of the Kustomization as YAML")
	cmd.Flags().BoolVar(&o.vars, "show-vars", false, "print the final post-build substitution variables in dotenv format")
	cmd.Flags().BoolVar(&o.history, "show-history", false, "print the reconciliation history (status.history) as YAML")
	return cmd
}

func runDebugKustomization(ctx context.Context, f *Factory, o *debugKustomizationOptions, name string) error {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	ks := &kustomizev1.Kustomization{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ks); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("Kustomization %s/%s not found: check the name and -n", ns, name)
		}
		return fmt.Errorf("reading Kustomization %s/%s: %w", ns, name, err)
	}
	switch {
	case o.status:
		return printYAML(f, ks.Status)
	case o.history:
		if len(ks.Status.History) == 0 {
			fmt.Fprintf(f.Err, "Kustomization %s/%s has no history yet: it has not been reconciled successfully\n", ns, name)
			return nil
		}
		return printYAML(f, ks.Status.History)
	}
	vars, err := substituteVars(ctx, f, ks)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(f.Out, "%s=%s\n", k, vars[k])
	}
	return nil
}

func printYAML(f *Factory, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = f.Out.Write(b)
	return err
}
