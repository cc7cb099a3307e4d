package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// newCreateSecretCommand is `flux create secret`, the parent of the secret
// generators.
func newCreateSecretCommand(f *Factory, common *createOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Create or update Kubernetes secrets",
		Long:  "The create secret sub-commands generate Kubernetes secrets specific to Flux.",
	}
	cmd.AddCommand(
		newCreateSecretGitCommand(f, common),
		newCreateSecretTLSCommand(f, common),
		newCreateSecretHelmCommand(f, common),
		newCreateSecretOCICommand(f, common),
		newCreateSecretProxyCommand(f, common),
		newCreateSecretGitHubAppCommand(f, common),
		newCreateSecretNotationCommand(f, common),
		newCreateSecretReceiverCommand(f, common),
	)
	return cmd
}

// generatedSecret is a Secret that a `flux create secret` subcommand
// generates, in the layout Flux gives it.
type generatedSecret struct {
	name, namespace     string
	labels, annotations map[string]string
	// secretType is left out of the manifest when empty (Opaque).
	secretType corev1.SecretType
	data       map[string]string
	// notes are printed before the secret is applied (the deploy key).
	notes []string
	// tightExport leaves out the blank line Flux prints after most
	// exported secrets (all but `create secret tls`, which has none).
	tightExport bool
}

// manifest is the Secret as a user would write it; encode puts the values
// base64-encoded under data instead of under stringData.
func (s *generatedSecret) manifest(encode bool) map[string]any {
	md := map[string]any{"name": s.name, "namespace": s.namespace}
	if len(s.labels) > 0 {
		md["labels"] = s.labels
	}
	if len(s.annotations) > 0 {
		md["annotations"] = s.annotations
	}
	m := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": md}
	if s.secretType != "" {
		m["type"] = string(s.secretType)
	}
	if encode {
		enc := make(map[string]any, len(s.data))
		for k, v := range s.data {
			enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
		m["data"] = enc
	} else {
		m["stringData"] = s.data
	}
	return m
}

// secretManifest is a Secret holding data, as a user would write it (see
// generatedSecret.manifest).
func secretManifest(name, ns string, labels, data map[string]string, encode bool) map[string]any {
	s := &generatedSecret{name: name, namespace: ns, labels: labels, data: data}
	return s.manifest(encode)
}

// export prints the Secret as Flux's --export does: with stringData, so
// that it can be read and encrypted with SOPS.
func (s *generatedSecret) export(f *Factory) error {
	out, err := yaml.Marshal(s.manifest(false))
	if err != nil {
		return err
	}
	trailer := "\n"
	if s.tightExport {
		trailer = ""
	}
	_, err = fmt.Fprintf(f.Out, "---\n%s%s", out, trailer)
	return err
}

// apply creates or updates the Secret with server-side apply; keys the
// CLI set before and no longer sets are removed.
func (s *generatedSecret) apply(ctx context.Context, f *Factory) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: s.manifest(true)}
	if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		if strings.Contains(err.Error(), "field is immutable") {
			return fmt.Errorf("apply Secret %s/%s: %w (the type of a Secret cannot change: delete it first)", s.namespace, s.name, err)
		}
		return fmt.Errorf("apply Secret %s/%s: %w", s.namespace, s.name, err)
	}
	return nil
}

// newCreateSecretKindCommand completes cmd into `flux create secret <what>
// NAME`: build checks the flags and returns the Secret, which --export
// prints and otherwise is applied. Nothing is written when build fails.
func newCreateSecretKindCommand(f *Factory, common *createOptions, what string, cmd *cobra.Command,
	build func(ctx context.Context, name, ns string) (*generatedSecret, error)) *cobra.Command {
	cmd.Use = what + " NAME"
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := checkName(args, "create secret "+what)
		if err != nil {
			return err
		}
		ns, err := f.Namespace()
		if err != nil {
			return err
		}
		labels, err := parseLabels(common.labels)
		if err != nil {
			return err
		}
		s, err := build(cmd.Context(), name, ns)
		if err != nil {
			return err
		}
		s.name, s.namespace, s.labels = name, ns, labels
		if common.export {
			return s.export(f)
		}
		p := progress{f.Err}
		for _, n := range s.notes {
			p.action("%s", n)
		}
		if err := s.apply(cmd.Context(), f); err != nil {
			return err
		}
		p.action("%s secret '%s' created in '%s' namespace", what, name, ns)
		return nil
	}
	return cmd
}

// readFlagFile reads the file a flag names, with an error that names both.
func readFlagFile(flag, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", flag, err)
	}
	return data, nil
}

// bothOrNeither checks that two flags that only work together are given
// together.
func bothOrNeither(flagA, a, flagB, b string) error {
	if (a == "") != (b == "") {
		return fmt.Errorf("%s and %s must be given together", flagA, flagB)
	}
	return nil
}

func trimNL(s string) string { return strings.TrimRight(s, "\r\n") }
