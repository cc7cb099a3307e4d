package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/commitmessage"
	"github.com/driftless/driftless/internal/engine/imagepolicy"
	"github.com/driftless/driftless/internal/kinds"
)

// newCreateImageCommand is `flux create image`, the group of the image
// automation kinds.
func newCreateImageCommand(f *Factory, common *createOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Create or update resources dealing with image automation"}
	cmd.AddCommand(newCreateImageRepositoryCommand(f, common), newCreateImagePolicyCommand(f, common),
		newCreateImageUpdateCommand(f, common))
	return cmd
}

type createImageRepositoryOptions struct {
	image, secretRef, certRef string
	scanTimeout               time.Duration
}

func newCreateImageRepositoryCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createImageRepositoryOptions{}
	cmd := newCreateKindCommand(f, common, kinds.ImageRepository(), &cobra.Command{
		Short: "Create or update an ImageRepository object",
		Long: "The create image repository command generates an ImageRepository resource: an image whose tags\n" +
			"the image-reflector controller scans every --interval.",
		Example: `  # Scan the tags of ghcr.io/stefanprodan/podinfo every five minutes
  flux create image repository podinfo --image=ghcr.io/stefanprodan/podinfo --interval=5m

  # A private image, with the credentials of a docker-registry Secret, printed rather than applied
  flux create image repository app --image=registry.example.com/team/app --secret-ref=regcred --export`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.image, "image", "", "the image repository to scan; e.g., library/alpine")
	fl.StringVar(&o.secretRef, "secret-ref", "", "the name of a docker-registry secret to use for credentials")
	fl.StringVar(&o.certRef, "cert-ref", "", "the name of a secret to use for TLS certificates")
	fl.DurationVar(&o.scanTimeout, "scan-timeout", 0, "a timeout for scanning; this defaults to the interval if not set")
	return cmd
}

func (o *createImageRepositoryOptions) build(name, ns string, common *createOptions) (*imagev1.ImageRepository, error) {
	if o.image == "" {
		return nil, fmt.Errorf("an image is required: add --image=<registry>/<repository>")
	}
	if err := checkImage(o.image); err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	r := &imagev1.ImageRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImageRepositoryKind},
		ObjectMeta: objMeta,
		Spec:       imagev1.ImageRepositorySpec{Image: o.image, Interval: interval},
	}
	if o.scanTimeout < 0 {
		return nil, fmt.Errorf("--scan-timeout must not be negative, got %s", o.scanTimeout)
	}
	if o.scanTimeout > 0 {
		r.Spec.Timeout = &metav1.Duration{Duration: o.scanTimeout}
	}
	if r.Spec.SecretRef, err = localRef("--secret-ref", o.secretRef); err != nil {
		return nil, err
	}
	if r.Spec.CertSecretRef, err = localRef("--cert-ref", o.certRef); err != nil {
		return nil, err
	}
	return r, nil
}

// checkImage refuses an --image that is not an image repository: a URL
// with a scheme, a tag or digest, a malformed name.
func checkImage(image string) error {
	if strings.Contains(image, "://") {
		return fmt.Errorf("invalid --image %q: write the repository without a scheme (ghcr.io/org/app)", image)
	}
	if _, err := name.NewRepository(image); err != nil {
		// Not a repository, but a reference with a tag or digest: say which
		// repository was meant.
		if ref, perr := name.ParseReference(image); perr == nil {
			return fmt.Errorf("invalid --image %q: an image repository has no tag or digest; use %s", image, ref.Context().Name())
		}
		return fmt.Errorf("invalid --image %q: %w", image, err)
	}
	return nil
}

// localRef is the reference to the named Secret, nil for "".
func localRef(flag, name string) (*meta.LocalObjectReference, error) {
	if name == "" {
		return nil, nil
	}
	if err := checkRefName(flag, name); err != nil {
		return nil, err
	}
	return &meta.LocalObjectReference{Name: name}, nil
}

type createImagePolicyOptions struct {
	imageRef                   string
	semver, alpha, numeric     string
	filterRegex, filterExtract string
	reflectDigest              string
}

// reflectPolicies are the values of --reflect-digest.
var reflectPolicies = []string{string(imagev1.ReflectNever), string(imagev1.ReflectIfNotPresent), string(imagev1.ReflectAlways)}

func newCreateImagePolicyCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createImagePolicyOptions{}
	var cmd *cobra.Command
	cmd = newCreateKindCommand(f, common, kinds.ImagePolicy(), &cobra.Command{
		Short: "Create or update an ImagePolicy object",
		Long: "The create image policy command generates an ImagePolicy resource: which tag of an\n" +
			"ImageRepository is the latest, by one of --select-semver, --select-alpha or --select-numeric.",
		Example: `  # The latest 5.x release of the ImageRepository podinfo
  flux create image policy podinfo --image-ref=podinfo --select-semver='5.x'

  # The newest main-<timestamp> tag, by the timestamp
  flux create image policy app --image-ref=app --filter-regex='^main-(?P<ts>[0-9]+)$' \
    --filter-extract='$ts' --select-numeric=asc --export`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common, cmd.Flags().Changed("interval"))
	})
	fl := cmd.Flags()
	fl.StringVar(&o.imageRef, "image-ref", "", "the name of an image repository object")
	fl.StringVar(&o.semver, "select-semver", "", "a semver range to apply to tags; e.g., '1.x'")
	fl.StringVar(&o.alpha, "select-alpha", "", "use alphabetical sorting to select image; either \"asc\" meaning select the last, or \"desc\" meaning select the first")
	fl.StringVar(&o.numeric, "select-numeric", "", "use numeric sorting to select image; either \"asc\" meaning select the last, or \"desc\" meaning select the first")
	fl.StringVar(&o.filterRegex, "filter-regex", "", "a regular expression pattern used to filter the image tags")
	fl.StringVar(&o.filterExtract, "filter-extract", "", "replacement pattern (using capture groups from --filter-regex) to use for sorting")
	fl.StringVar(&o.reflectDigest, "reflect-digest", "",
		"the digest reflection policy: Never (the default), IfNotPresent or Always; --interval applies with Always only")
	return cmd
}

// build makes the ImagePolicy; intervalSet says --interval was given,
// which sets spec.interval (the digest refresh of --reflect-digest=Always).
func (o *createImagePolicyOptions) build(name, ns string, common *createOptions, intervalSet bool) (*imagev1.ImagePolicy, error) {
	if o.imageRef == "" {
		return nil, fmt.Errorf("an image repository is required: add --image-ref=<ImageRepository name>")
	}
	if err := checkRefName("--image-ref", o.imageRef); err != nil {
		return nil, err
	}
	objMeta, err := common.staticMeta(name, ns)
	if err != nil {
		return nil, err
	}
	p := &imagev1.ImagePolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImagePolicyKind},
		ObjectMeta: objMeta,
		Spec:       imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: o.imageRef}},
	}
	spec, err := o.policy(&p.Spec.Policy)
	if err != nil {
		return nil, err
	}
	if o.filterExtract != "" && o.filterRegex == "" {
		return nil, fmt.Errorf("--filter-extract needs --filter-regex: it is made from the regex's groups")
	}
	if o.filterRegex != "" {
		p.Spec.FilterTags = &imagev1.TagFilter{Pattern: o.filterRegex, Extract: o.filterExtract}
		spec.Pattern, spec.Extract = o.filterRegex, o.filterExtract
	}
	// The controller's own check of pattern, extract, range and order:
	// what it would stall on is refused now.
	var bad *imagepolicy.SpecError
	if _, err := imagepolicy.Select(nil, spec); errors.As(err, &bad) {
		return nil, fmt.Errorf("%s (%s)", bad.Error(), flagOf(bad.Field))
	}
	if o.reflectDigest != "" {
		v, err := oneOf("--reflect-digest", o.reflectDigest, reflectPolicies)
		if err != nil {
			return nil, err
		}
		p.Spec.DigestReflectionPolicy = imagev1.ReflectionPolicy(v)
	}
	if intervalSet {
		if p.GetDigestReflectionPolicy() != imagev1.ReflectAlways {
			return nil, fmt.Errorf("--interval applies with --reflect-digest=Always only: an ImagePolicy is re-evaluated at each scan of its ImageRepository")
		}
		if common.interval <= 0 {
			return nil, fmt.Errorf("--interval must be positive, got %s", common.interval)
		}
		p.Spec.Interval = &metav1.Duration{Duration: common.interval}
	}
	return p, nil
}

// policy sets exactly one of the three policies from the --select-* flags
// and returns the engine's spec of it.
func (o *createImagePolicyOptions) policy(c *imagev1.ImagePolicyChoice) (imagepolicy.Spec, error) {
	var set []string
	var spec imagepolicy.Spec
	if o.semver != "" {
		set = append(set, "--select-semver")
		c.SemVer = &imagev1.SemVerPolicy{Range: o.semver}
		spec = imagepolicy.Spec{Kind: imagepolicy.Semver, Range: o.semver}
	}
	if o.alpha != "" {
		set = append(set, "--select-alpha")
		order, err := oneOf("--select-alpha", o.alpha, []string{imagev1.OrderAsc, imagev1.OrderDesc})
		if err != nil {
			return spec, err
		}
		c.Alphabetical = &imagev1.AlphabeticalPolicy{Order: order}
		spec = imagepolicy.Spec{Kind: imagepolicy.Alphabetical, Order: order}
	}
	if o.numeric != "" {
		set = append(set, "--select-numeric")
		order, err := oneOf("--select-numeric", o.numeric, []string{imagev1.OrderAsc, imagev1.OrderDesc})
		if err != nil {
			return spec, err
		}
		c.Numerical = &imagev1.NumericalPolicy{Order: order}
		spec = imagepolicy.Spec{Kind: imagepolicy.Numerical, Order: order}
	}
	switch len(set) {
	case 0:
		return spec, fmt.Errorf("a policy is required: add one of --select-semver, --select-alpha or --select-numeric")
	case 1:
		return spec, nil
	}
	return spec, fmt.Errorf("only one policy may be given, got %s", strings.Join(set, " and "))
}

// flagOf names the flag that sets an ImagePolicy field the engine names.
func flagOf(field string) string {
	switch {
	case strings.Contains(field, "pattern"):
		return "--filter-regex"
	case strings.Contains(field, "extract"):
		return "--filter-extract"
	case strings.Contains(field, "range"):
		return "--select-semver"
	}
	return "--select-alpha or --select-numeric"
}

type createImageUpdateOptions struct {
	gitRepoRef, gitRepoNamespace, gitRepoPath string
	checkoutBranch, pushBranch                string
	commitTemplate, authorName, authorEmail   string
	signingKeySecret, signingKeyType          string
}

// signingKeyTypes are the values of --signing-key-type.
var signingKeyTypes = []string{string(imagev1.SigningKeyTypeGPG), string(imagev1.SigningKeyTypeSSH)}

func newCreateImageUpdateCommand(f *Factory, common *createOptions) *cobra.Command {
	o := &createImageUpdateOptions{}
	cmd := newCreateKindCommand(f, common, kinds.ImageUpdateAutomation(), &cobra.Command{
		Short: "Create or update an ImageUpdateAutomation object",
		Long: "The create image update command generates an ImageUpdateAutomation resource: it updates the\n" +
			"image references marked in a GitRepository's files with the ImagePolicies' picks, commits and pushes.",
		Example: `  # Update the files under ./clusters/my-cluster of the GitRepository flux-system, committing to main
  flux create image update flux-system --git-repo-ref=flux-system --git-repo-path=./clusters/my-cluster \
    --checkout-branch=main --author-name=flux --author-email=flux@example.com

  # Push the commits to their own branch, signed with the GPG key of the Secret signing-key
  flux create image update apps --git-repo-ref=fleet --checkout-branch=main --push-branch=image-updates \
    --author-email=flux@example.com --signing-key-secret=signing-key --export`,
	}, func(name, ns string) (kinds.Object, error) {
		return o.build(name, ns, common, f.Err)
	})
	fl := cmd.Flags()
	fl.StringVar(&o.gitRepoRef, "git-repo-ref", "", "the name of a GitRepository resource with details of the upstream Git repository")
	fl.StringVar(&o.gitRepoNamespace, "git-repo-namespace", "", "the namespace of the GitRepository object that should be used for updates")
	fl.StringVar(&o.gitRepoPath, "git-repo-path", "", "path to the directory containing the manifests to be updated, defaults to the repository root")
	fl.StringVar(&o.checkoutBranch, "checkout-branch", "", "the branch to checkout, defaults to the GitRepository's ref")
	fl.StringVar(&o.pushBranch, "push-branch", "", "the branch to push commits to, defaults to the checkout branch if not specified")
	fl.StringVar(&o.commitTemplate, "commit-template", "", "a template for commit messages")
	fl.StringVar(&o.authorName, "author-name", "", "the name to use for commit author")
	fl.StringVar(&o.authorEmail, "author-email", "", "the email to use for commit author")
	fl.StringVar(&o.signingKeySecret, "signing-key-secret", "", "the name of a Secret with the key to sign commits with")
	fl.StringVar(&o.signingKeyType, "signing-key-type", "", "the type of the signing key: gpg (the default) or ssh")
	return cmd
}

// Warnings (a template field Flux removed but Driftless renders) go to
// warn.
func (o *createImageUpdateOptions) build(name, ns string, common *createOptions, warn io.Writer) (*imagev1.ImageUpdateAutomation, error) {
	if o.gitRepoRef == "" {
		return nil, fmt.Errorf("a GitRepository is required: add --git-repo-ref=<GitRepository name>")
	}
	if err := checkRefName("--git-repo-ref", o.gitRepoRef); err != nil {
		return nil, err
	}
	if o.gitRepoNamespace != "" {
		if errs := validation.IsDNS1123Label(o.gitRepoNamespace); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --git-repo-namespace %q: %s", o.gitRepoNamespace, strings.Join(errs, "; "))
		}
	}
	if o.authorEmail == "" {
		return nil, fmt.Errorf("the commit author's email is required: add --author-email")
	}
	if o.signingKeyType != "" && o.signingKeySecret == "" {
		return nil, fmt.Errorf("--signing-key-type needs --signing-key-secret, the Secret that holds the key")
	}
	if strings.HasPrefix(o.gitRepoPath, "/") || slices.Contains(strings.Split(o.gitRepoPath, "/"), "..") {
		return nil, fmt.Errorf("invalid --git-repo-path %q: a path inside the repository, relative to its root", o.gitRepoPath)
	}
	if err := checkBranch("--checkout-branch", o.checkoutBranch); err != nil {
		return nil, err
	}
	if err := checkBranch("--push-branch", o.pushBranch); err != nil {
		return nil, err
	}
	if err := checkCommitTemplate(o.commitTemplate, warn); err != nil {
		return nil, err
	}
	objMeta, interval, err := common.reconciled(name, ns)
	if err != nil {
		return nil, err
	}
	git := &imagev1.GitSpec{Commit: imagev1.CommitSpec{
		Author:          imagev1.CommitUser{Name: o.authorName, Email: o.authorEmail},
		MessageTemplate: o.commitTemplate,
	}}
	if o.checkoutBranch != "" {
		git.Checkout = &imagev1.GitCheckoutSpec{Reference: imagev1.GitRepositoryRef{Branch: o.checkoutBranch}}
	}
	if o.pushBranch != "" {
		git.Push = &imagev1.PushSpec{Branch: o.pushBranch}
	}
	if o.signingKeySecret != "" {
		if err := checkRefName("--signing-key-secret", o.signingKeySecret); err != nil {
			return nil, err
		}
		key := &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: o.signingKeySecret}}
		if o.signingKeyType != "" {
			typ, err := oneOf("--signing-key-type", o.signingKeyType, signingKeyTypes)
			if err != nil {
				return nil, err
			}
			key.Type = imagev1.SigningKeyType(typ)
		}
		git.Commit.SigningKey = key
	}
	return &imagev1.ImageUpdateAutomation{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImageUpdateAutomationKind},
		ObjectMeta: objMeta,
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: o.gitRepoRef, Namespace: o.gitRepoNamespace},
			GitSpec:   git,
			Interval:  interval,
			Update:    &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: o.gitRepoPath},
		},
	}, nil
}

// checkCommitTemplate refuses a --commit-template the controller would
// stall on, with the controller's own parser: one that does not parse, or
// reads a field Flux removed. One reading a deprecated field is rendered,
// which warn says.
func checkCommitTemplate(text string, warn io.Writer) error {
	m, err := commitmessage.Parse(text, nil)
	var parseErr *commitmessage.ParseError
	var removed *commitmessage.RemovedFieldError
	switch {
	case errors.As(err, &parseErr):
		return fmt.Errorf("invalid --commit-template: %s", parseErr.Err)
	case errors.As(err, &removed):
		return fmt.Errorf("invalid --commit-template: it uses removed field '%s'; use %s", removed.Field, commitmessage.Instead)
	case err != nil:
		return fmt.Errorf("invalid --commit-template: %w", err)
	}
	if field := m.Deprecated(); field != "" {
		fmt.Fprintf(warn, "⚠️ --commit-template uses '%s', which Flux has removed: Driftless renders it, but use %s\n",
			field, commitmessage.Instead)
	}
	return nil
}

// checkBranch refuses a branch name Git would ("" is none given).
func checkBranch(flag, branch string) error {
	if branch == "" {
		return nil
	}
	if strings.ContainsAny(branch, " ~^:?*[\\") || strings.Contains(branch, "..") || strings.HasPrefix(branch, "-") ||
		strings.HasPrefix(branch, "/") || strings.HasSuffix(branch, "/") || strings.HasSuffix(branch, ".lock") {
		return fmt.Errorf("invalid %s %q: not a Git branch name", flag, branch)
	}
	return nil
}
