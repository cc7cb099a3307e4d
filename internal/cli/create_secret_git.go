package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

type createSecretGitOptions struct {
	url, username, password, bearerToken string
	caCrtFile, privateKeyFile            string
	keyAlgorithm, ecdsaCurve             string
	rsaBits                              int
}

// newCreateSecretCommand is `flux create secret`, the parent of the secret
// generators.
func newCreateSecretCommand(f *Factory, common *createOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "secret", Short: "Create or update Kubernetes secrets"}
	cmd.AddCommand(newCreateSecretGitCommand(f, common))
	return cmd
}

func newCreateSecretGitCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSecretGitOptions{}
	cmd := &cobra.Command{
		Use:   "git NAME",
		Short: "Create or update a Kubernetes secret for Git authentication",
		Long: `The create secret git command generates a Kubernetes secret with Git credentials.
For Git over SSH, an SSH key pair is generated (unless --private-key-file is given) and the
host key is scanned from the server into known_hosts. For Git over HTTP/S, the basic
authentication credentials or the bearer token are stored in the secret.`,
		Example: `  # Create a Git SSH authentication secret using an ECDSA P-521 curve public key
  flux create secret git podinfo-auth --url=ssh://git@github.com/stefanprodan/podinfo \
    --ssh-key-algorithm=ecdsa --ssh-ecdsa-curve=p521

  # Create a Git SSH authentication secret with a private key from a file
  flux create secret git podinfo-auth --url=ssh://git@github.com/stefanprodan/podinfo \
    --private-key-file=./private.key

  # Create a secret for a Git repository using basic authentication
  flux create secret git podinfo-auth --url=https://github.com/stefanprodan/podinfo \
    --username=username --password=password`,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := checkName(args, "create secret git")
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
			data, err := o.secretData(cmd.Context())
			if err != nil {
				return err
			}
			if common.export {
				return exportSecret(f, name, ns, labels, data)
			}
			if pub, ok := data["identity.pub"]; ok {
				progress{f.Err}.action("deploy key: %s", trimNL(pub))
			}
			return applySecret(cmd.Context(), f, name, ns, labels, data, "git")
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "Git address, e.g. ssh://git@host/org/repository")
	fl.StringVarP(&o.username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&o.password, "password", "p", "", "basic authentication password, or the passphrase of --private-key-file")
	fl.StringVar(&o.bearerToken, "bearer-token", "", "bearer authentication token")
	fl.StringVar(&o.caCrtFile, "ca-crt-file", "", "path to a TLS CA certificate file used for validating self-signed certificates")
	fl.StringVar(&o.privateKeyFile, "private-key-file", "", "path to a passwordless private key file used for authenticating to the Git SSH server")
	fl.StringVar(&o.keyAlgorithm, "ssh-key-algorithm", "ecdsa", "SSH public key algorithm (rsa, ecdsa, ed25519)")
	fl.IntVar(&o.rsaBits, "ssh-rsa-bits", 2048, "SSH RSA public key bit size (multiplies of 8, min 1024, max 8192)")
	fl.StringVar(&o.ecdsaCurve, "ssh-ecdsa-curve", "p384", "SSH ECDSA public key curve (p256, p384, p521)")
	return cmd
}

// secretData checks the flags and returns the secret's keys and values.
func (o *createSecretGitOptions) secretData(ctx context.Context) (map[string]string, error) {
	if o.url == "" {
		return nil, fmt.Errorf("url is required: add --url=ssh://git@host/org/repository (or https://host/org/repository)")
	}
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, fmt.Errorf("invalid --url %q: %w", o.url, err)
	}
	data := map[string]string{}
	switch u.Scheme {
	case "ssh":
		if u.Host == "" {
			return nil, fmt.Errorf("invalid --url %q: no host; write it as ssh://git@host/org/repository", o.url)
		}
		var pair *sshKeyPair
		if o.privateKeyFile != "" {
			key, err := os.ReadFile(o.privateKeyFile)
			if err != nil {
				return nil, fmt.Errorf("read --private-key-file: %w", err)
			}
			pair, err = loadKeyPair(key, o.password)
			if err != nil {
				return nil, fmt.Errorf("--private-key-file %s: %w", o.privateKeyFile, err)
			}
		} else if pair, err = generateKeyPair(o.keyAlgorithm, o.rsaBits, o.ecdsaCurve); err != nil {
			return nil, err
		}
		knownHosts, err := scanHostKey(ctx, u.Host, nil)
		if err != nil {
			return nil, err
		}
		data["identity"] = string(pair.PrivateKey)
		data["identity.pub"] = string(pair.PublicKey)
		data["known_hosts"] = knownHosts + "\n"
		if o.password != "" {
			data["password"] = o.password
		}
	case "http", "https":
		switch {
		case o.bearerToken != "" && (o.username != "" || o.password != ""):
			return nil, fmt.Errorf("--bearer-token cannot be combined with --username/--password: use one or the other")
		case o.bearerToken != "":
			data["bearerToken"] = o.bearerToken
		case o.username != "" && o.password != "":
			data["username"] = o.username
			data["password"] = o.password
		case o.username != "" || o.password != "":
			return nil, fmt.Errorf("basic authentication needs both --username and --password")
		case o.caCrtFile == "":
			return nil, fmt.Errorf("for Git over HTTP/S give --username and --password, --bearer-token, or --ca-crt-file")
		}
		if o.caCrtFile != "" {
			ca, err := os.ReadFile(o.caCrtFile)
			if err != nil {
				return nil, fmt.Errorf("read --ca-crt-file: %w", err)
			}
			data["ca.crt"] = string(ca)
		}
	default:
		return nil, fmt.Errorf("git URL scheme %q not supported in --url %q: use ssh, http or https", u.Scheme, o.url)
	}
	return data, nil
}

// secretManifest is a Secret holding data, as a user would write it.
func secretManifest(name, ns string, labels, data map[string]string, encode bool) map[string]any {
	md := map[string]any{"name": name, "namespace": ns}
	if len(labels) > 0 {
		md["labels"] = labels
	}
	m := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": md}
	if encode {
		m["data"] = encodeData(data)
	} else {
		m["stringData"] = data
	}
	return m
}

// exportSecret prints the Secret as Flux's --export does, with stringData
// so that it can be read and encrypted with SOPS.
func exportSecret(f *Factory, name, ns string, labels, data map[string]string) error {
	out, err := yaml.Marshal(secretManifest(name, ns, labels, data, false))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f.Out, "---\n%s", out)
	return err
}

// applySecret creates or updates the Secret with server-side apply.
func applySecret(ctx context.Context, f *Factory, name, ns string, labels, data map[string]string, what string) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: secretManifest(name, ns, labels, data, true)}
	if err := c.Patch(ctx, u, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply Secret %s/%s: %w", ns, name, err)
	}
	progress{f.Err}.success("%s secret '%s' created in '%s' namespace", what, name, ns)
	return nil
}

// encodeData base64-encodes values for a Secret's data.
func encodeData(data map[string]string) map[string]any {
	enc := make(map[string]any, len(data))
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return enc
}

func trimNL(s string) string { return strings.TrimRight(s, "\r\n") }
