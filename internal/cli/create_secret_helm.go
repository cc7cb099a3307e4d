package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newCreateSecretHelmCommand(f *Factory, common *createOptions) *cobra.Command {
	var username, password string
	certs := &tlsFileOptions{}
	cmd := newCreateSecretKindCommand(f, common, "helm", &cobra.Command{
		Short: "Create or update a Kubernetes secret for Helm repository authentication",
		Long: `The create secret helm command generates a Kubernetes secret with basic authentication
credentials (username, password) and, optionally, TLS certificates (tls.crt, tls.key, ca.crt).`,
		Example: `  # Create a Helm authentication secret on disk and encrypt it with Mozilla SOPS
  flux create secret helm repo-auth \
    --namespace=my-namespace \
    --username=my-username \
    --password=my-password \
    --export > repo-auth.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place repo-auth.yaml`,
	}, func(context.Context, string, string) (*generatedSecret, error) {
		if err := bothOrNeither("--username", username, "--password", password); err != nil {
			return nil, err
		}
		if username == "" && certs.empty() {
			return nil, fmt.Errorf("nothing to store: give --username and --password, and/or --tls-crt-file and --tls-key-file, --ca-crt-file")
		}
		data, err := certs.data()
		if err != nil {
			return nil, err
		}
		if username != "" {
			data["username"], data["password"] = username, password
		}
		return &generatedSecret{data: data}, nil
	})
	fl := cmd.Flags()
	fl.StringVarP(&username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&password, "password", "p", "", "basic authentication password")
	certs.addFlags(fl)
	return cmd
}
