package cli

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/git"
)

type bootstrapGitOptions struct {
	url, username, password string
	bearerToken             bool
	insecureHTTP            bool
	silent                  bool
	path                    string
	interval                time.Duration
}

func newBootstrapGitCommand(f *Factory, b *bootstrapOptions) *cobra.Command {
	g := &bootstrapGitOptions{}
	cmd := &cobra.Command{
		Use:   "git",
		Short: "Deploy Driftless on a cluster connected to a Git repository",
		Long: `The bootstrap git command commits the install and sync manifests to a branch of a Git
repository (<path>/flux-system/{gotk-components.yaml,gotk-sync.yaml,kustomization.yaml}),
installs the controller, stores the Git credentials in a secret and waits until the
cluster reconciles itself from the repository. Running it again changes nothing unless
a flag or the version changed.`,
		Example: `  # Bootstrap over SSH with a generated deploy key (add it to the Git host when asked)
  flux bootstrap git --url=ssh://git@example.com/org/fleet.git --path=clusters/my-cluster

  # Bootstrap over SSH with an existing key that may push
  flux bootstrap git --url=ssh://git@example.com/org/fleet.git --private-key-file=./id_ecdsa --path=clusters/my-cluster

  # Bootstrap over HTTPS with basic authentication
  flux bootstrap git --url=https://example.com/org/fleet.git --username=git --password=$TOKEN --path=clusters/my-cluster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.password == "" {
				g.password = f.Getenv("GIT_PASSWORD")
			}
			prov, err := newGitProvider(f, b, g)
			if err != nil {
				return err
			}
			return runBootstrap(cmd.Context(), f, b, prov, g.path, g.interval)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&g.url, "url", "", "Git repository URL: ssh://, https:// (or http:// with --allow-insecure-http)")
	fl.StringVarP(&g.username, "username", "u", "git", "basic authentication username")
	fl.StringVarP(&g.password, "password", "p", "", "basic authentication password (or GIT_PASSWORD), or the passphrase of --private-key-file")
	fl.BoolVar(&g.bearerToken, "with-bearer-token", false, "use the password as a bearer token in the Authorization header (HTTP/S only)")
	fl.BoolVar(&g.insecureHTTP, "allow-insecure-http", false, "allow http:// URLs (credentials travel in clear text)")
	fl.BoolVarP(&g.silent, "silent", "s", false, "assume yes to all questions")
	fl.StringVar(&g.path, "path", "", "path relative to the repository root; the sync manifests are pushed to <path>/flux-system")
	fl.DurationVar(&g.interval, "interval", time.Minute, "sync interval of the GitRepository")
	return cmd
}

// gitProvider is the plain-Git bootstrap provider: the repository is
// --url as given, and its credentials are --username/--password, a bearer
// token, --private-key-file or a deploy key the user adds by hand.
type gitProvider struct {
	f *Factory
	b *bootstrapOptions
	g *bootstrapGitOptions
	u *url.URL
}

// newGitProvider checks the flags of `bootstrap git`.
func newGitProvider(f *Factory, b *bootstrapOptions, g *bootstrapGitOptions) (*gitProvider, error) {
	u, err := g.validate(b)
	if err != nil {
		return nil, err
	}
	return &gitProvider{f: f, b: b, g: g, u: u}, nil
}

// repository is --url: plain Git cannot create a repository.
func (p *gitProvider) repository(context.Context) (bootstrapRepository, error) {
	return bootstrapRepository{
		url: p.g.url, redacted: p.u.Redacted(), syncURL: p.g.url,
		check: "--url and the credentials (" + p.g.credentialFlags(p.u) + ")",
	}, nil
}

// credentials are the source secret's keys, which the command line also
// clones and pushes with; see sourceSecretData.
func (p *gitProvider) credentials(ctx context.Context, ns string, _ bootstrapRepository) (map[string]string, *git.Auth, error) {
	secret, err := sourceSecretData(ctx, p.f, p.b, p.g, p.u, ns)
	if err != nil {
		return nil, nil, err
	}
	auth, err := git.AuthFromSecret(p.u, toBytes(secret))
	if err != nil {
		return nil, nil, fmt.Errorf("git credentials: %w", err)
	}
	return secret, auth, nil
}

// validate checks the URL and the combination of credential flags.
func (g *bootstrapGitOptions) validate(b *bootstrapOptions) (*url.URL, error) {
	if g.url == "" {
		return nil, fmt.Errorf("--url is required, e.g. --url=ssh://git@example.com/org/fleet.git")
	}
	u, err := url.Parse(g.url)
	if err != nil {
		return nil, fmt.Errorf("invalid --url: %w", err)
	}
	if u.Host == "" || u.Path == "" || u.Path == "/" {
		return nil, fmt.Errorf("invalid --url %q: write it as ssh://git@host/org/repository or https://host/org/repository", u.Redacted())
	}
	if g.interval <= 0 {
		return nil, fmt.Errorf("--interval must be positive, got %s", g.interval)
	}
	switch u.Scheme {
	case "ssh":
		if b.tokenAuth || g.bearerToken {
			return nil, fmt.Errorf("--token-auth and --with-bearer-token need an https:// URL, not %s", u.Redacted())
		}
	case "http":
		if !g.insecureHTTP {
			return nil, fmt.Errorf("scheme http is insecure: pass --allow-insecure-http=true to allow it, or use https://")
		}
	case "https":
	default:
		return nil, fmt.Errorf("git URL scheme %q not supported in --url: use ssh, https or http", u.Scheme)
	}
	if u.Scheme != "ssh" && b.privateKeyFile != "" {
		return nil, fmt.Errorf("--private-key-file is for ssh:// URLs; over HTTP/S use --username and --password")
	}
	if g.bearerToken && g.password == "" {
		return nil, fmt.Errorf("--with-bearer-token needs the token in --password (or GIT_PASSWORD)")
	}
	return u, nil
}

func (g *bootstrapGitOptions) credentialFlags(u *url.URL) string {
	if u.Scheme == "ssh" {
		return "the deploy key, --private-key-file or the known host key"
	}
	return "--username and --password"
}

func toBytes(m map[string]string) map[string][]byte {
	if m == nil {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
