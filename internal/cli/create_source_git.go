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
}

func newCreateSourceGitCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createSourceGitOptions{}
	cmd := newCreateKindCommand(f, common, kinds.GitRepository(), &cobra.Command{
		Short: "Create or update a GitRepository source",
		Example: `  # Create a source for a branch of a public Git repository
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --branch=master

  # Print the GitRepository instead of applying it
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --tag-semver=">=6.0.0" --export`,
	}, func(name, ns string) (meta.Object, error) {
		repo, err := o.build(name, ns, common)
		return repo, err
	})
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
	labels, err := parseLabels(common.labels)
	if err != nil {
		return nil, err
	}
	if common.interval <= 0 {
		return nil, fmt.Errorf("--interval must be positive, got %s", common.interval)
	}
	repo := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: sourcev1.GitRepositorySpec{
			URL:               o.url,
			Interval:          metav1.Duration{Duration: common.interval},
			Reference:         ref,
			RecurseSubmodules: o.recurseSubmodules,
		},
	}
	if o.secretRef != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: o.secretRef}
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
