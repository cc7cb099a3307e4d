package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
)

func newCreateSecretOCICommand(f *Factory, common *createOptions) *cobra.Command {
	var registry, username, password string
	cmd := newCreateSecretKindCommand(f, common, "oci", &cobra.Command{
		Short: "Create or update a Kubernetes image pull secret",
		Long: `The create secret oci command generates a Kubernetes secret of type kubernetes.io/dockerconfigjson
that can be used for OCIRepository authentication and as an image pull secret.`,
		Example: `  # Create an OCI authentication secret on disk and encrypt it with Mozilla SOPS
  flux create secret oci podinfo-auth \
    --url=ghcr.io \
    --username=username \
    --password=password \
    --export > repo-auth.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place repo-auth.yaml`,
	}, func(context.Context, string, string) (*generatedSecret, error) {
		switch {
		case registry == "":
			return nil, fmt.Errorf("--url is required, e.g. --url=ghcr.io")
		case username == "":
			return nil, fmt.Errorf("--username is required")
		case password == "":
			return nil, fmt.Errorf("--password is required")
		}
		if strings.Contains(registry, "://") {
			return nil, fmt.Errorf("invalid --url %q: give the registry address without a scheme, e.g. ghcr.io/org", registry)
		}
		if _, err := name.ParseReference(registry); err != nil {
			return nil, fmt.Errorf("invalid --url %q: %w", registry, err)
		}
		return dockerConfigSecret(registry, username, password)
	})
	fl := cmd.Flags()
	fl.StringVar(&registry, "url", "", "oci repository address e.g ghcr.io/stefanprodan/charts")
	fl.StringVarP(&username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&password, "password", "p", "", "basic authentication password")
	return cmd
}

// dockerAuth is one registry's entry in a .dockerconfigjson, its fields in
// the order Flux and kubectl write them.
type dockerAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

// dockerConfigSecret is an image pull secret (kubernetes.io/dockerconfigjson)
// with the credentials for registry, the layout `flux create secret oci` and
// `flux install --registry-creds` write.
func dockerConfigSecret(registry, username, password string) (*generatedSecret, error) {
	cfg := map[string]map[string]dockerAuth{"auths": {registry: {
		Username: username,
		Password: password,
		Auth:     base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
	}}}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return &generatedSecret{
		secretType: corev1.SecretTypeDockerConfigJson,
		data:       map[string]string{corev1.DockerConfigJsonKey: string(data)},
	}, nil
}
