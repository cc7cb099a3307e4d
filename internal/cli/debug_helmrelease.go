package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/helmvalues"
)

// secretValuesWarning is Flux's warning of `debug helmrelease`, printed on
// stderr when the values shown include a Secret's.
const secretValuesWarning = "WARNING: This command will print sensitive information if Kubernetes Secrets are referenced " +
	"in the HelmRelease .spec.valuesFrom field."

// debugHelmReleaseOptions are the flags of `flux debug helmrelease`;
// exactly one is set.
type debugHelmReleaseOptions struct {
	status, values, history bool
}

func newDebugHelmReleaseCommand(f *Factory) *cobra.Command {
	o := &debugHelmReleaseOptions{}
	cmd := &cobra.Command{
		Use:     "helmrelease NAME",
		Aliases: []string{"hr"},
		Short:   "Debug a HelmRelease resource",
		Long: `The debug helmrelease command prints, to troubleshoot failing Helm release reconciliations:
its status (--show-status), the final values of the release (--show-values: the ConfigMaps and
Secrets of spec.valuesFrom in order, spec.values over them, then the valuesFrom entries with a
targetPath, as the controller composes them now), or the releases it made (--show-history).

` + secretValuesWarning,
		Example: `  # Print the status of a Helm release
  flux debug hr podinfo --show-status

  # Export the final values of a Helm release composed from referred ConfigMaps and Secrets
  flux debug hr podinfo --show-values > values.yaml

  # Print the history of the releases the controller made
  flux debug hr podinfo --show-history`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set := 0
			for _, b := range []bool{o.status, o.values, o.history} {
				if b {
					set++
				}
			}
			if set != 1 {
				return errors.New("give exactly one of --show-status, --show-values or --show-history")
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runDebugHelmRelease(ctx, f, o, args[0])
		},
	}
	cmd.Flags().BoolVar(&o.status, "show-status", false, "print the status of the Helm release")
	cmd.Flags().BoolVar(&o.values, "show-values", false, "print the final values of the Helm release")
	cmd.Flags().BoolVar(&o.history, "show-history", false, "print the history of the Helm release (status.history) as YAML")
	return cmd
}

func runDebugHelmRelease(ctx context.Context, f *Factory, o *debugHelmReleaseOptions, name string) error {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	hr := &helmv2.HelmRelease{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, hr); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("HelmRelease %s/%s not found: check the name and -n", ns, name)
		}
		return fmt.Errorf("reading HelmRelease %s/%s: %w", ns, name, err)
	}
	switch {
	case o.status:
		fmt.Fprintln(f.Out, "# Status documentation: https://fluxcd.io/flux/components/helm/helmreleases/#helmrelease-status")
		return printYAML(f, hr.Status)
	case o.history:
		if len(hr.Status.History) == 0 {
			fmt.Fprintf(f.Err, "HelmRelease %s/%s has no history yet: it has not released anything\n", ns, name)
			return nil
		}
		return printYAML(f, hr.Status.History)
	}
	for _, ref := range hr.Spec.ValuesFrom {
		if ref.Kind == helmvalues.KindSecret {
			fmt.Fprintln(f.Err, secretValuesWarning)
			break
		}
	}
	values, err := helmvalues.ComposeRelease(ctx, kubeValuesReader{client: c, namespace: ns}, hr)
	if err != nil {
		return fmt.Errorf("composing the values of HelmRelease %s/%s: %w", ns, name, err)
	}
	return printYAML(f, values)
}

// kubeValuesReader reads the ConfigMaps and Secrets of a release's values
// through the CLI's client, as the user running it.
type kubeValuesReader struct {
	client    client.Client
	namespace string
}

func (r kubeValuesReader) Get(ctx context.Context, kind, name string) (map[string][]byte, bool, error) {
	key := client.ObjectKey{Namespace: r.namespace, Name: name}
	switch kind {
	case helmvalues.KindConfigMap:
		cm := &corev1.ConfigMap{}
		if err := r.client.Get(ctx, key, cm); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, false, nil
			}
			return nil, false, err
		}
		data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
		for k, v := range cm.BinaryData {
			data[k] = v
		}
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		return data, true, nil
	case helmvalues.KindSecret:
		s := &corev1.Secret{}
		if err := r.client.Get(ctx, key, s); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, false, nil
			}
			return nil, false, err
		}
		return s.Data, true, nil
	}
	return nil, false, fmt.Errorf("values of kind %q cannot be read: use ConfigMap or Secret", kind)
}
