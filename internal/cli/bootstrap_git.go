package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/git"
	"github.com/driftless/driftless/internal/install"
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
			return runBootstrapGit(cmd.Context(), f, b, g)
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

// runBootstrapGit pushes the manifests, installs, writes the source secret,
// applies the sync objects and waits for them, printing Flux's progress.
func runBootstrapGit(ctx context.Context, f *Factory, b *bootstrapOptions, g *bootstrapGitOptions) error {
	p := progress{f.Err}
	u, err := g.validate(b)
	if err != nil {
		return err
	}
	target, err := cleanTargetPath(g.path)
	if err != nil {
		return err
	}
	ns := f.SystemNamespace()
	b.install.Namespace = ns
	if _, _, err := b.install.Controllers(); err != nil {
		return err
	}
	var signKey *openpgp.Entity
	if b.gpgKeyRing != "" {
		ring, err := os.ReadFile(b.gpgKeyRing)
		if err != nil {
			return fmt.Errorf("read --gpg-key-ring: %w", err)
		}
		if signKey, err = git.LoadSigningKey(ring, b.gpgPassphrase, b.gpgKeyID); err != nil {
			return fmt.Errorf("--gpg-key-ring %s: %w", b.gpgKeyRing, err)
		}
	}

	secret, err := sourceSecretData(ctx, f, b, g, u, ns)
	if err != nil {
		return err
	}
	auth, err := git.AuthFromSecret(u, toBytes(secret))
	if err != nil {
		return fmt.Errorf("git credentials: %w", err)
	}

	p.action("cloning branch %q from Git repository %q", b.branch, u.Redacted())
	dir, err := os.MkdirTemp("", "flux-bootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	client := &git.Client{SSHHostKeyAlgorithms: b.hostKeyAlgos}
	w, err := client.CheckoutBranch(ctx, dir, git.BranchOptions{URL: g.url, Branch: b.branch, Auth: auth, Timeout: f.Timeout})
	if err != nil {
		return fmt.Errorf("clone %s: %w; check --url and the credentials (%s), and that they may push", u.Redacted(), err, g.credentialFlags(u))
	}
	if w.Head() == "" {
		p.success("branch %q does not exist yet: it will be created", b.branch)
	} else {
		p.success("cloned repository")
	}

	author := git.Signature{Name: b.authorName, Email: b.authorEmail}
	flux := path.Join(target, "flux-system")
	p.action("generating component manifests")
	objs, err := install.Render(b.install)
	if err != nil {
		return err
	}
	components, err := install.YAML(objs, b.install, "flux bootstrap")
	if err != nil {
		return err
	}
	if err := commitStep(p, w, "component manifests", b, git.CommitRequest{
		Files:   map[string][]byte{path.Join(flux, "gotk-components.yaml"): components},
		Message: b.commitMessage(fmt.Sprintf("Add Flux %s component manifests", b.install.Version)),
		Author:  author, SignKey: signKey,
	}); err != nil {
		return err
	}

	secretName := b.secretName
	if secret == nil {
		secretName = ""
	}
	repoObj, ksObj := syncObjects(ns, g.url, b.branch, secretName, target, g.interval, b.recurseSubmodules)
	p.action("generating sync manifests")
	sync, err := syncYAML(repoObj, ksObj)
	if err != nil {
		return err
	}
	files := map[string][]byte{path.Join(flux, "gotk-sync.yaml"): sync}
	if _, ok := w.ReadFile(path.Join(flux, "kustomization.yaml")); !ok {
		files[path.Join(flux, "kustomization.yaml")] = []byte(kustomizationYAML)
	}
	if err := commitStep(p, w, "sync manifests", b, git.CommitRequest{
		Files: files, Message: b.commitMessage("Add Flux sync manifests"), Author: author, SignKey: signKey,
	}); err != nil {
		return err
	}
	pushed, err := w.Push(ctx)
	if err != nil {
		return err
	}
	if pushed {
		p.success("pushed manifests to branch %q (%s)", b.branch, w.Head())
	} else {
		p.success("branch %q is up to date (%s): nothing to push", b.branch, w.Head())
	}

	if err := installComponents(ctx, f, b.install); err != nil {
		return err
	}
	if secret != nil {
		if err := reconcileSourceSecret(ctx, f, ns, b.secretName, secret); err != nil {
			return err
		}
	}
	return applySyncAndWait(ctx, f, repoObj, ksObj, w.Head(), pushed)
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

// commitStep commits one group of files and says whether it changed.
func commitStep(p progress, w *git.Writer, what string, b *bootstrapOptions, req git.CommitRequest) error {
	hash, changed, err := w.Commit(req)
	if err != nil {
		return err
	}
	if changed {
		p.success("committed %s to %q (%s)", what, b.branch, hash)
	} else {
		p.success("%s are up to date", what)
	}
	return nil
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
