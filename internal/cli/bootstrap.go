package cli

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/install"
)

// bootstrapOptions are the flags every `flux bootstrap` subcommand shares
// (Flux's persistent bootstrap flags).
type bootstrapOptions struct {
	install           install.Options
	branch            string
	recurseSubmodules bool
	tokenAuth         bool
	secretName        string

	keyAlgorithm   string
	rsaBits        int
	ecdsaCurve     string
	hostKeyAlgos   []string
	sshHostname    string
	caFile         string
	privateKeyFile string

	authorName, authorEmail               string
	gpgKeyRing, gpgPassphrase, gpgKeyID   string
	sshSigningKeyFile, sshSigningPassword string
	sshSigningReuseKey                    bool
	sparseCheckout                        []string
	commitAppendix                        string
	// extras are install's --registry-creds and --force.
	extras installExtras
}

// newBootstrapCommand is `flux bootstrap`, the parent of the Git providers;
// only the generic `git` one exists. A provider subcommand builds a
// bootstrapProvider and hands it to runBootstrap.
func newBootstrapCommand(f *Factory, version string) *cobra.Command {
	b := &bootstrapOptions{install: install.DefaultOptions(version)}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Deploy Driftless on a cluster the GitOps way",
		Long: `The bootstrap subcommands push the install and sync manifests to a Git repository,
install the controller on the cluster and configure it to reconcile itself from that repository.`,
	}
	fl := cmd.PersistentFlags()
	addInstallFlags(fl, &b.install)
	fl.StringVar(&b.branch, "branch", "main", "Git branch")
	fl.BoolVar(&b.recurseSubmodules, "recurse-submodules", false, "when enabled, configures the GitRepository source to initialize and include Git submodules in the artifact it produces")
	fl.BoolVar(&b.tokenAuth, "token-auth", false, "when enabled, the password (a personal access token) is used over HTTP/S instead of an SSH deploy key")
	fl.StringVar(&b.secretName, "secret-name", "flux-system", "name of the secret the sync credentials can be found in or stored to")
	fl.StringVar(&b.keyAlgorithm, "ssh-key-algorithm", "ecdsa", "SSH public key algorithm (rsa, ecdsa, ed25519)")
	fl.IntVar(&b.rsaBits, "ssh-rsa-bits", 2048, "SSH RSA public key bit size (multiplies of 8, min 1024, max 8192)")
	fl.StringVar(&b.ecdsaCurve, "ssh-ecdsa-curve", "p384", "SSH ECDSA public key curve (p256, p384, p521)")
	fl.StringSliceVar(&b.hostKeyAlgos, "ssh-hostkey-algos", nil, "list of host key algorithms to be used by the CLI for SSH connections")
	fl.StringVar(&b.sshHostname, "ssh-hostname", "", "SSH hostname (host or host:port) to scan for known_hosts, when it differs from the --url host")
	fl.StringVar(&b.caFile, "ca-file", "", "path to TLS CA file used for validating self-signed certificates")
	fl.StringVar(&b.privateKeyFile, "private-key-file", "", "path to a private key file used for authenticating to the Git SSH server")
	fl.StringVar(&b.authorName, "author-name", "Flux", "author name for Git commits")
	fl.StringVar(&b.authorEmail, "author-email", "", "author email for Git commits")
	fl.StringVar(&b.gpgKeyRing, "gpg-key-ring", "", "path to GPG key ring for signing commits")
	fl.StringVar(&b.gpgPassphrase, "gpg-passphrase", "", "passphrase for decrypting GPG private key")
	fl.StringVar(&b.gpgKeyID, "gpg-key-id", "", "key id for selecting a particular key")
	fl.StringVar(&b.sshSigningKeyFile, "ssh-signing-key-file", "", "path to an SSH private key for signing commits")
	fl.StringVar(&b.sshSigningPassword, "ssh-signing-password", "", "passphrase of the SSH signing key")
	fl.BoolVar(&b.sshSigningReuseKey, "ssh-signing-reuse-private-key", false, "sign commits with the key of --private-key-file")
	fl.StringSliceVar(&b.sparseCheckout, "sparse-checkout", nil, "directories the GitRepository checks out (spec.sparseCheckout), comma-separated; they must include --path")
	fl.StringVar(&b.commitAppendix, "commit-message-appendix", "", "string to add to the commit messages, e.g. '[ci skip]'")
	b.extras.addFlags(fl)
	cmd.AddCommand(newBootstrapGitCommand(f, b), newBootstrapGitHubCommand(f, b), newBootstrapGitLabCommand(f, b),
		newBootstrapGiteaCommand(f, b), newBootstrapBitbucketServerCommand(f, b))
	return cmd
}

// cleanTargetPath checks --path: a relative directory inside the
// repository, "" for its root. It returns it without "./" and slashes at
// either end.
func cleanTargetPath(p string) (string, error) {
	trimmed := strings.TrimSpace(p)
	if trimmed == "" {
		return "", nil
	}
	if strings.HasPrefix(trimmed, "/") {
		return "", fmt.Errorf("--path %q must be relative to the repository root, e.g. clusters/my-cluster", p)
	}
	for _, part := range strings.Split(trimmed, "/") {
		if part == ".." {
			return "", fmt.Errorf("--path %q must not contain '..': give a directory inside the repository, e.g. clusters/my-cluster", p)
		}
	}
	clean := path.Clean(trimmed)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// sparseDirs checks --sparse-checkout: relative directories, one of which
// holds the target path, so that the cluster still sees its own manifests.
func (b *bootstrapOptions) sparseDirs(target string) ([]string, error) {
	if len(b.sparseCheckout) == 0 {
		return nil, nil
	}
	var dirs []string
	covered := false
	for _, d := range b.sparseCheckout {
		clean, err := cleanTargetPath(d)
		if err != nil || clean == "" {
			return nil, fmt.Errorf("invalid --sparse-checkout directory %q: give directories relative to the repository root, e.g. clusters/my-cluster", d)
		}
		dirs = append(dirs, clean)
		covered = covered || target == clean || strings.HasPrefix(target, clean+"/")
	}
	if !covered {
		return nil, fmt.Errorf("--sparse-checkout %s does not include --path %q: add it, or a directory above it", strings.Join(b.sparseCheckout, ","), target)
	}
	return dirs, nil
}

// syncObjects are the GitRepository and Kustomization that make the
// cluster reconcile itself from the repository, named after the namespace
// as Flux names them.
func syncObjects(ns, url, branch, secretName, targetPath string, interval time.Duration, submodules bool) (*sourcev1.GitRepository, *kustomizev1.Kustomization) {
	repo := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: ns, Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{
			URL:               url,
			Interval:          metav1.Duration{Duration: interval},
			Reference:         &sourcev1.GitRepositoryRef{Branch: branch},
			RecurseSubmodules: submodules,
		},
	}
	if secretName != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: secretName}
	}
	ks := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: ns, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Interval:  metav1.Duration{Duration: 10 * time.Minute},
			Path:      "./" + targetPath,
			Prune:     true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: ns},
		},
	}
	return repo, ks
}

const syncHeader = "# This manifest was generated by flux bootstrap. DO NOT EDIT.\n"

// syncYAML is gotk-sync.yaml: the two sync objects.
func syncYAML(repo *sourcev1.GitRepository, ks *kustomizev1.Kustomization) ([]byte, error) {
	var b strings.Builder
	b.WriteString(syncHeader)
	for _, obj := range []meta.Object{repo, ks} {
		m, err := manifest(obj)
		if err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(m)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return []byte(b.String()), nil
}

// kustomizationYAML is the flux-system kustomization.yaml listing the two
// generated files; users add their patches to it.
const kustomizationYAML = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- gotk-components.yaml
- gotk-sync.yaml
`

// commitMessage adds --commit-message-appendix to a message.
func (b *bootstrapOptions) commitMessage(msg string) string {
	if b.commitAppendix == "" {
		return msg
	}
	return msg + "\n\n" + b.commitAppendix
}
