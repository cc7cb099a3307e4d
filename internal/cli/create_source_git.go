package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

type createSourceGitOptions struct {
	url, branch, tag, semver, refName, commit string
	secretRef                                 string
	ignorePaths                               []string
	recurseSubmodules                         bool
	fetchTimeout                              time.Duration

	// The credentials to store in a Secret named after the source.
	username, password, caFile string
	ssh                        sshIdentityOptions
	silent                     bool

	provider, proxySecretRef string
	sparseCheckout           []string
}

func newCreateSourceGitCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSourceGitOptions{}
	k := kinds.GitRepository()
	cmd := &cobra.Command{
		Use:     k.Command.Name + " NAME",
		Aliases: k.Command.Aliases,
		Short:   "Create or update a GitRepository source",
		Long: `The create source git command generates a GitRepository resource and waits for it to sync.
For Git over SSH, host and SSH keys are automatically generated and stored in a Kubernetes secret.
For private Git repositories, the basic authentication credentials are stored in a Kubernetes secret.`,
		Example: `  # Create a source for a branch of a public Git repository
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --branch=master

  # Create a source for a Git repository using SSH authentication: a key pair is generated
  # and its public key printed, to be added to the repository as a deploy key
  flux create source git podinfo --url=ssh://git@github.com/stefanprodan/podinfo --branch=master

  # Create a source for a Git repository using SSH authentication and a
  # private key with a password from file
  flux create source git podinfo --url=ssh://git@github.com/stefanprodan/podinfo --branch=master \
    --private-key-file=./private.key --password=<password>

  # Create a source for a Git repository using basic authentication
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --branch=master \
    --username=username --password=password

  # Print the GitRepository instead of applying it
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --tag-semver=">=6.0.0" --export`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), f, common, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "Git address, e.g. ssh://git@host/org/repository")
	fl.StringVar(&o.branch, "branch", "", "Git branch")
	fl.StringVar(&o.tag, "tag", "", "Git tag")
	fl.StringVar(&o.semver, "tag-semver", "", "Git tag semver range")
	fl.StringVar(&o.refName, "ref-name", "", "Git reference name")
	fl.StringVar(&o.commit, "commit", "", "Git commit")
	fl.StringVar(&o.secretRef, "secret-ref", "", "the name of an existing secret containing SSH or basic credentials")
	fl.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore in git resource (can specify multiple paths with commas: path1,path2)")
	fl.BoolVar(&o.recurseSubmodules, "recurse-submodules", false,
		"when enabled, configures the GitRepository source to initialize and include Git submodules in the artifact it produces")
	fl.DurationVar(&o.fetchTimeout, "fetch-timeout", 0, "set a timeout for fetch operations performed by source-controller (e.g. 'Git clone')")
	fl.StringVarP(&o.username, "username", "u", "", "basic authentication username")
	fl.StringVarP(&o.password, "password", "p", "", "basic authentication password, or the passphrase of --private-key-file")
	fl.StringVar(&o.caFile, "ca-file", "", "path to TLS CA file used for validating self-signed certificates")
	o.ssh.addFlags(fl)
	fl.BoolVarP(&o.silent, "silent", "s", false, "assumes the deploy key is already setup, skips confirmation")
	fl.StringVar(&o.provider, "provider", sourcev1.GitProviderGeneric, "the Git provider name, available options are: (generic, azure, github)")
	fl.StringVar(&o.proxySecretRef, "proxy-secret-ref", "", "the name of an existing secret containing the proxy address and credentials")
	fl.StringSliceVar(&o.sparseCheckout, "sparse-checkout-paths", nil,
		"set paths to sparse checkout in git resource (can specify multiple paths with commas: path1,path2)")
	return cmd
}

// build checks the flags and returns the GitRepository they describe.
func (o *createSourceGitOptions) build(name, ns string, common *createOptions) (*sourcev1.GitRepository, error) {
	if o.url == "" {
		return nil, fmt.Errorf("url is required: add --url=https://host/org/repository (or ssh://git@host/org/repository)")
	}
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, fmt.Errorf("invalid --url %q: %w", o.url, err)
	}
	if u.Scheme != "ssh" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("git URL scheme %q not supported in --url %q: use ssh, http or https", u.Scheme, o.url)
	}
	ref, err := o.ref()
	if err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	repo := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: objMeta,
		Spec: sourcev1.GitRepositorySpec{
			URL:               o.url,
			Interval:          interval,
			Reference:         ref,
			RecurseSubmodules: o.recurseSubmodules,
		},
	}
	if o.secretRef != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: o.secretRef}
	}
	switch o.provider {
	case sourcev1.GitProviderGeneric:
	case sourcev1.GitProviderAzure, sourcev1.GitProviderGitHub:
		repo.Spec.Provider = o.provider
	default:
		return nil, fmt.Errorf("Git provider %q in --provider is not supported, must be one of: generic, azure, github", o.provider)
	}
	if o.proxySecretRef != "" {
		repo.Spec.ProxySecretRef = &meta.LocalObjectReference{Name: o.proxySecretRef}
	}
	for _, p := range o.sparseCheckout {
		if p = strings.TrimSpace(p); p != "" {
			repo.Spec.SparseCheckout = append(repo.Spec.SparseCheckout, p)
		}
	}
	if len(o.ignorePaths) > 0 {
		ignore := strings.Join(o.ignorePaths, "\n")
		repo.Spec.Ignore = &ignore
	}
	if o.fetchTimeout > 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: o.fetchTimeout}
	}
	return repo, nil
}

// ref is the Git reference the flags select: one of --tag, --tag-semver,
// --ref-name or --commit (a commit may name its --branch), else --branch.
func (o *createSourceGitOptions) ref() (*sourcev1.GitRepositoryRef, error) {
	var set []string
	for flag, v := range map[string]string{"--tag": o.tag, "--tag-semver": o.semver, "--ref-name": o.refName, "--commit": o.commit} {
		if v != "" {
			set = append(set, flag)
		}
	}
	switch {
	case len(set) > 1:
		return nil, fmt.Errorf("only one of --tag, --tag-semver, --ref-name and --commit may be set")
	case len(set) == 0 && o.branch == "":
		return nil, fmt.Errorf("a Git ref is required: use one of --branch, --tag, --tag-semver, --ref-name or --commit")
	case o.branch != "" && o.commit == "" && len(set) == 1:
		return nil, fmt.Errorf("--branch cannot be combined with %s (only with --commit)", set[0])
	}
	return &sourcev1.GitRepositoryRef{Branch: o.branch, Tag: o.tag, SemVer: o.semver, Name: o.refName, Commit: o.commit}, nil
}
