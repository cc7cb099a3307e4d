package imageupdateautomation

import (
	"context"
	"errors"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileSource finds the GitRepository, the branch to check out and the
// branch to push to, and the credentials to do both with.
func (r *Reconciler) reconcileSource(ctx context.Context, obj *imagev1.ImageUpdateAutomation, p *reconcile.Pass, s *Run) error {
	ref := obj.Spec.SourceRef
	if ref.Kind != "" && ref.Kind != sourcev1.GitRepositoryKind {
		return reconcile.Stalling(imagev1.InvalidSourceConfigReason, "source kind '%s' not supported", ref.Kind)
	}
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if r.NoCrossNamespaceRefs && ns != obj.Namespace {
		return reconcile.Stalling(meta.AccessDeniedReason,
			"cannot access '%s/%s/%s', cross-namespace references have been blocked", sourcev1.GitRepositoryKind, ns, ref.Name)
	}
	var repo sourcev1.GitRepository
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, &repo); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Failed(imagev1.SourceManagerFailedReason, "referenced git repository '%s/%s' does not exist", ns, ref.Name)
		}
		return reconcile.Failed(imagev1.SourceManagerFailedReason, "get %s: %w", describe(sourcev1.GitRepositoryKind, ns, ref.Name), err)
	}
	s.repo = &repo
	spec := obj.Spec.GitSpec
	if spec == nil {
		return reconcile.Stalling(imagev1.InvalidSourceConfigReason, "source configuration is invalid: spec.git is required")
	}
	s.ref = checkoutRef(spec, &repo)
	if unsupportedRef(s.ref.Tag, s.ref.SemVer, s.ref.Name, s.ref.Commit) == "" {
		s.checkout = s.ref.Branch
		if s.checkout == "" {
			s.checkout = git.DefaultBranch
		}
	}
	s.push = s.checkout
	if spec.Push != nil && spec.Push.Branch != "" {
		s.push = spec.Push.Branch
	}
	if s.push == "" {
		return reconcile.Stalling(imagev1.InvalidSourceConfigReason,
			"git.push.branch is required when checking out %s, which is not a branch", s.ref)
	}
	if provider := repo.Spec.Provider; provider != "" && provider != "generic" {
		return reconcile.Stalling(imagev1.InvalidSourceConfigReason,
			"GitRepository provider '%s' is not supported yet; use secretRef credentials", provider)
	}
	s.branch = git.BranchOptions{URL: repo.Spec.URL, Branch: s.checkout}
	s.branch.Timeout = defaultTimeout
	if repo.Spec.Timeout != nil && repo.Spec.Timeout.Duration > 0 {
		s.branch.Timeout = repo.Spec.Timeout.Duration
	}
	return r.credentials(ctx, &repo, &s.branch)
}

// defaultTimeout bounds each Git operation when the GitRepository has no
// timeout (its CRD defaults it to the same 60s).
const defaultTimeout = 60 * time.Second

// checkoutRef is git.checkout.ref, else the GitRepository's ref, else
// the default branch.
func checkoutRef(spec *imagev1.GitSpec, repo *sourcev1.GitRepository) git.Reference {
	if c := spec.Checkout; c != nil && c.Reference != (imagev1.GitRepositoryRef{}) {
		r := c.Reference
		return git.Reference{Branch: r.Branch, Tag: r.Tag, SemVer: r.SemVer, Name: r.Name, Commit: r.Commit}
	}
	if r := repo.Spec.Reference; r != nil {
		return git.Reference{Branch: r.Branch, Tag: r.Tag, SemVer: r.SemVer, Name: r.Name, Commit: r.Commit}
	}
	return git.Reference{Branch: git.DefaultBranch}
}

// unsupportedRef names the first reference field set other than branch:
// what makes a reference not a plain branch.
func unsupportedRef(tag, semver, name, commit string) string {
	switch {
	case tag != "":
		return "tag"
	case semver != "":
		return "semver"
	case name != "":
		return "name"
	case commit != "":
		return "commit"
	}
	return ""
}

// trackedBranch is the branch the GitRepository follows, "" when it
// follows something else.
func trackedBranch(repo *sourcev1.GitRepository) string {
	ref := repo.Spec.Reference
	if ref == nil {
		return git.DefaultBranch
	}
	if unsupportedRef(ref.Tag, ref.SemVer, ref.Name, ref.Commit) != "" {
		return ""
	}
	if ref.Branch == "" {
		return git.DefaultBranch
	}
	return ref.Branch
}

// credentials reads the GitRepository's auth and proxy Secrets.
func (r *Reconciler) credentials(ctx context.Context, repo *sourcev1.GitRepository, opts *git.BranchOptions) error {
	if ref := repo.Spec.SecretRef; ref != nil {
		secret, err := r.secret(ctx, repo.Namespace, ref.Name)
		if err != nil {
			return err
		}
		u, err := url.Parse(repo.Spec.URL)
		if err != nil {
			return reconcile.Stalling(imagev1.InvalidSourceConfigReason, "invalid URL of %s: cannot parse it",
				describe(sourcev1.GitRepositoryKind, repo.Namespace, repo.Name))
		}
		if opts.Auth, err = git.AuthFromSecret(u, secret.Data); err != nil {
			return reconcile.Failed(imagev1.GitOperationFailedReason, "invalid secret '%s/%s': %w", repo.Namespace, ref.Name, err)
		}
	}
	if ref := repo.Spec.ProxySecretRef; ref != nil {
		secret, err := r.secret(ctx, repo.Namespace, ref.Name)
		if err != nil {
			return err
		}
		if opts.Proxy, err = git.ProxyFromSecret(secret.Data); err != nil {
			return reconcile.Failed(imagev1.GitOperationFailedReason, "invalid proxy secret '%s/%s': %w", repo.Namespace, ref.Name, err)
		}
	}
	return nil
}

func (r *Reconciler) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := r.Secrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, reconcile.Failed(imagev1.GitOperationFailedReason, "failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return &s, nil
}

// gitFailed fails with GitOperationFailed, or stalls on a URL or refspec
// that can never work.
func gitFailed(format string, err error) error {
	if errors.Is(err, git.ErrInvalidURL) || errors.Is(err, git.ErrInvalidReference) {
		return reconcile.Stalling(imagev1.InvalidSourceConfigReason, format, err)
	}
	return reconcile.Failed(imagev1.GitOperationFailedReason, format, err)
}
