package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type createSecretGitOptions struct {
	url, username, password, bearerToken string
	caCrtFile                            string
	ssh                                  sshIdentityOptions
}

func newCreateSecretGitCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSecretGitOptions{}
	cmd := newCreateSecretKindCommand(f, common, "git", &cobra.Command{
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
	}, func(ctx context.Context, _, _ string) (*generatedSecret, error) {
		data, err := o.secretData(ctx)
		if err != nil {
			return nil, err
		}
		s := &generatedSecret{data: data}
		if pub, ok := data["identity.pub"]; ok {
			s.notes = append(s.notes, "deploy key: "+trimNL(pub))
		}
		return s, nil
	})
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "Git address, e.g. ssh://git@host/org/repository")
	fl.StringVarP(&o.username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&o.password, "password", "p", "", "basic authentication password, or the passphrase of --private-key-file")
	fl.StringVar(&o.bearerToken, "bearer-token", "", "bearer authentication token")
	fl.StringVar(&o.caCrtFile, "ca-crt-file", "", "path to a TLS CA certificate file used for validating self-signed certificates")
	o.ssh.addFlags(fl)
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
	switch u.Scheme {
	case "ssh":
		if u.Host == "" {
			return nil, fmt.Errorf("invalid --url %q: no host; write it as ssh://git@host/org/repository", o.url)
		}
		pair, err := o.ssh.keyPair(o.password)
		if err != nil {
			return nil, err
		}
		return sshSecretData(ctx, u.Host, pair, o.password)
	case "http", "https":
		data := map[string]string{}
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
			ca, err := readCertificates("--ca-crt-file", o.caCrtFile)
			if err != nil {
				return nil, err
			}
			data["ca.crt"] = ca
		}
		return data, nil
	default:
		return nil, fmt.Errorf("git URL scheme %q not supported in --url %q: use ssh, http or https", u.Scheme, o.url)
	}
}

// sshIdentityOptions are the flags that choose the SSH key pair of a Git
// secret: a private key file, or the kind of key to generate.
type sshIdentityOptions struct {
	privateKeyFile string
	algorithm      string
	rsaBits        int
	ecdsaCurve     string
}

func (o *sshIdentityOptions) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.privateKeyFile, "private-key-file", "", "path to a private key file used for authenticating to the Git SSH server "+
		"(protected by the passphrase given with --password, if any)")
	fl.StringVar(&o.algorithm, "ssh-key-algorithm", "ecdsa", "SSH public key algorithm (rsa, ecdsa, ed25519)")
	fl.IntVar(&o.rsaBits, "ssh-rsa-bits", 2048, "SSH RSA public key bit size (multiplies of 8, min 1024, max 8192)")
	fl.StringVar(&o.ecdsaCurve, "ssh-ecdsa-curve", "p384", "SSH ECDSA public key curve (p256, p384, p521)")
}

// keyPair reads --private-key-file, decrypted with password when it is
// protected, or else generates a key pair as the flags describe.
func (o *sshIdentityOptions) keyPair(password string) (*sshKeyPair, error) {
	if o.privateKeyFile == "" {
		return generateKeyPair(o.algorithm, o.rsaBits, o.ecdsaCurve)
	}
	key, err := readFlagFile("--private-key-file", o.privateKeyFile)
	if err != nil {
		return nil, err
	}
	pair, err := loadKeyPair(key, password)
	if err != nil {
		return nil, fmt.Errorf("--private-key-file %s: %w", o.privateKeyFile, err)
	}
	return pair, nil
}

// sshSecretData scans the host key of host (host or host:port) and returns
// the keys of a Git SSH secret as Flux writes them: identity, identity.pub,
// known_hosts (one line) and, for a protected key, password.
func sshSecretData(ctx context.Context, host string, pair *sshKeyPair, password string) (map[string]string, error) {
	knownHosts, err := scanHostKey(ctx, host, nil)
	if err != nil {
		return nil, err
	}
	data := map[string]string{
		"identity":     string(pair.PrivateKey),
		"identity.pub": string(pair.PublicKey),
		"known_hosts":  knownHosts,
	}
	if password != "" {
		data["password"] = password
	}
	return data, nil
}
