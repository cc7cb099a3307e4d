package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
)

type createSecretGitHubAppOptions struct {
	appID, installationOwner, installationID string
	privateKeyFile, baseURL                  string
}

func newCreateSecretGitHubAppCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSecretGitHubAppOptions{}
	cmd := newCreateSecretKindCommand(f, common, "githubapp", &cobra.Command{
		Short: "Create or update a github app secret",
		Long: `The create secret githubapp command generates a Kubernetes secret that can be used for
GitRepository authentication with a GitHub App (spec.provider: github). The app installation is
named either by its ID (--app-installation-id) or by the account it is installed on
(--app-installation-owner).`,
		Example: `  # Create a githubapp authentication secret on disk and encrypt it with Mozilla SOPS
  flux create secret githubapp podinfo-auth \
    --app-id="1" \
    --app-installation-id="2" \
    --app-private-key=./private-key-file.pem \
    --export > githubapp-auth.yaml

  sops --encrypt --encrypted-regex '^(data|stringData)$' \
    --in-place githubapp-auth.yaml`,
	}, func(context.Context, string, string) (*generatedSecret, error) {
		data, err := o.data()
		if err != nil {
			return nil, err
		}
		return &generatedSecret{data: data, secretType: corev1.SecretTypeOpaque}, nil
	})
	fl := cmd.Flags()
	fl.StringVar(&o.appID, "app-id", "", "github app ID")
	fl.StringVar(&o.installationOwner, "app-installation-owner", "", "github app installation owner (user or organization)")
	fl.StringVar(&o.installationID, "app-installation-id", "", "github app installation ID")
	fl.StringVar(&o.privateKeyFile, "app-private-key", "", "github app private key file path")
	fl.StringVar(&o.baseURL, "app-base-url", "", "github app base URL")
	return cmd
}

// data checks the flags and returns the keys source-controller reads.
func (o *createSecretGitHubAppOptions) data() (map[string]string, error) {
	switch {
	case o.appID == "":
		return nil, fmt.Errorf("--app-id is required")
	case o.installationID == "" && o.installationOwner == "":
		return nil, fmt.Errorf("--app-installation-id or --app-installation-owner is required")
	case o.installationID != "" && o.installationOwner != "":
		return nil, fmt.Errorf("give either --app-installation-id or --app-installation-owner, not both")
	case o.privateKeyFile == "":
		return nil, fmt.Errorf("--app-private-key is required")
	}
	if id, err := strconv.ParseInt(o.installationID, 10, 64); o.installationID != "" && (err != nil || id <= 0) {
		return nil, fmt.Errorf("invalid --app-installation-id %q: it is the number GitHub shows in the installation's URL", o.installationID)
	}
	key, err := readFlagFile("--app-private-key", o.privateKeyFile)
	if err != nil {
		return nil, err
	}
	if err := checkPrivateKeyPEM(key); err != nil {
		return nil, fmt.Errorf("--app-private-key %s: %w", o.privateKeyFile, err)
	}
	data := map[string]string{"githubAppID": o.appID, "githubAppPrivateKey": string(key)}
	if o.installationID != "" {
		data["githubAppInstallationID"] = o.installationID
	} else {
		data["githubAppInstallationOwner"] = o.installationOwner
	}
	if o.baseURL != "" {
		data["githubAppBaseURL"] = o.baseURL
	}
	return data, nil
}

// checkPrivateKeyPEM checks that key is a PEM private key (PKCS#1 or
// PKCS#8), as GitHub issues them for apps.
func checkPrivateKeyPEM(key []byte) error {
	block, _ := pem.Decode(key)
	if block == nil {
		return fmt.Errorf("not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		return fmt.Errorf("the private key does not parse: %w", err)
	}
	return nil
}
