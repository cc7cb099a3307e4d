package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

func newCreateSecretProxyCommand(f *Factory, common *createOptions) *cobra.Command {
	var address, username, password string
	cmd := newCreateSecretKindCommand(f, common, "proxy", &cobra.Command{
		Short: "Create or update a Kubernetes secret for proxy authentication",
		Long: `The create secret proxy command generates a Kubernetes secret with the
proxy address and the basic authentication credentials.`,
		Example: `  # Create a proxy secret on disk and encrypt it with SOPS
  flux create secret proxy my-proxy \
    --namespace=my-namespace \
    --address=https://my-proxy.com \
    --username=my-username \
    --password=my-password \
    --export > proxy.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place proxy.yaml`,
	}, func(context.Context, string, string) (*generatedSecret, error) {
		if address == "" {
			return nil, fmt.Errorf("--address is required, e.g. --address=https://proxy.example.com:8080")
		}
		u, err := url.Parse(address)
		if err != nil {
			return nil, fmt.Errorf("invalid --address %q: %w", address, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") || u.Host == "" {
			return nil, fmt.Errorf("invalid --address %q: write it as http://, https:// or socks5://host[:port]", address)
		}
		if err := bothOrNeither("--username", username, "--password", password); err != nil {
			return nil, err
		}
		data := map[string]string{"address": address}
		if username != "" {
			data["username"], data["password"] = username, password
		}
		return &generatedSecret{data: data}, nil
	})
	fl := cmd.Flags()
	fl.StringVar(&address, "address", "", "proxy address")
	fl.StringVarP(&username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&password, "password", "p", "", "basic authentication password")
	return cmd
}
