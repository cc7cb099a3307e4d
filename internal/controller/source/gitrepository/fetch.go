package gitrepository

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileSource resolves the reference and, unless upstream still has the
// stored revision, clones the repository into a temporary directory.
func (r *Reconciler) reconcileSource(ctx context.Context, obj *sourcev1.GitRepository, p *reconcile.Pass, c *Checkout) error {
	opts, err := r.cloneOptions(ctx, obj)
	if err != nil {
		return err
	}
	if r.canSkipClone(obj) {
		hash, ref, err := r.Git.Resolve(ctx, opts)
		if err == nil {
			rev, ferr := artifact.FormatGitRevision(ref, hash)
			if ferr == nil && rev == obj.Status.Artifact.Revision {
				c.Unchanged, c.Revision = true, rev
				p.Delete(sourcev1.FetchFailedCondition)
				return nil
			}
		}
		// A failed remote check is not final: the clone says what is wrong.
	}
	if c.Dir, err = r.kit().NewTempDir(obj, p); err != nil {
		return fetchFailed(sourcev1.GitOperationFailedReason, err)
	}
	commit, err := r.Git.Clone(ctx, c.Dir, opts)
	if err != nil {
		return fetchFailed(cloneReason(err), fmt.Errorf("failed to checkout and determine revision: %w", err))
	}
	if c.Revision, err = artifact.FormatGitRevision(commit.Reference, commit.Hash); err != nil {
		return fetchFailed(sourcev1.GitOperationFailedReason, err)
	}
	c.commit = commit
	c.File, c.Ignore = commit.Hash+".tar.gz", obj.Spec.Ignore
	p.Delete(sourcev1.FetchFailedCondition)
	if a := obj.Status.Artifact; a == nil || a.Revision != c.Revision {
		msg := fmt.Sprintf("new upstream revision '%s'", c.Revision)
		p.MarkTrue(sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason, msg)
		return p.Progress(sourcev1.NewRevisionReason, "building artifact: "+msg)
	}
	return nil
}

// canSkipClone tells whether a remote check may stand in for a clone: an
// artifact exists, the spec is the one it was built from, and nothing but
// the upstream revision could change it.
func (r *Reconciler) canSkipClone(obj *sourcev1.GitRepository) bool {
	s := obj.Spec
	switch {
	case obj.Status.Artifact == nil || obj.Generation != obj.Status.ObservedGeneration,
		len(s.Include) > 0, // included artifacts change independently
		s.Reference != nil && s.Reference.Commit != "",
		s.Verification != nil && !reconcile.IsTrue(obj, sourcev1.SourceVerifiedCondition),
		!reconcile.IsTrue(obj, sourcev1.ArtifactInStorageCondition):
		return false
	}
	return ptrEqual(s.Ignore, obj.Status.ObservedIgnore) &&
		s.RecurseSubmodules == obj.Status.ObservedRecurseSubmodules &&
		slices.Equal(s.SparseCheckout, obj.Status.ObservedSparseCheckout)
}

// cloneOptions turns the spec and its Secrets into clone options.
func (r *Reconciler) cloneOptions(ctx context.Context, obj *sourcev1.GitRepository) (git.CloneOptions, error) {
	opts := git.CloneOptions{
		URL:               obj.Spec.URL,
		RecurseSubmodules: obj.Spec.RecurseSubmodules,
		SparseCheckout:    obj.Spec.SparseCheckout,
	}
	if obj.Spec.Timeout != nil {
		opts.Timeout = obj.Spec.Timeout.Duration
	}
	if ref := obj.Spec.Reference; ref != nil {
		opts.Reference = git.Reference{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
	}
	if obj.Spec.Provider != "" && obj.Spec.Provider != "generic" {
		return opts, reconcile.Stalling(sourcev1.InvalidProviderConfigurationReason,
			"provider '%s' is not supported yet; use secretRef credentials", obj.Spec.Provider)
	}
	if ref := obj.Spec.SecretRef; ref != nil {
		secret, err := r.secret(ctx, obj.Namespace, ref.Name)
		if err != nil {
			return opts, fetchFailed(sourcev1.AuthenticationFailedReason, err)
		}
		u, err := parseURL(obj.Spec.URL)
		if err != nil {
			return opts, stallFetch(sourcev1.URLInvalidReason, err)
		}
		if opts.Auth, err = git.AuthFromSecret(u, secret.Data); err != nil {
			return opts, fetchFailed(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("invalid secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
	}
	if ref := obj.Spec.ProxySecretRef; ref != nil {
		secret, err := r.secret(ctx, obj.Namespace, ref.Name)
		if err != nil {
			return opts, fetchFailed(sourcev1.AuthenticationFailedReason, err)
		}
		if opts.Proxy, err = git.ProxyFromSecret(secret.Data); err != nil {
			return opts, fetchFailed(sourcev1.AuthenticationFailedReason,
				fmt.Errorf("invalid proxy secret '%s/%s': %w", obj.Namespace, ref.Name, err))
		}
	}
	return opts, nil
}

func (r *Reconciler) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := r.Secrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, fmt.Errorf("failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return &s, nil
}

// cloneReason maps the Git client's errors to Flux's reasons.
func cloneReason(err error) string {
	switch {
	case errors.Is(err, git.ErrAuthentication), errors.Is(err, git.ErrInvalidSecret), errors.Is(err, git.ErrHostKeyVerification):
		return sourcev1.AuthenticationFailedReason
	case errors.Is(err, git.ErrInvalidURL):
		return sourcev1.URLInvalidReason
	}
	return sourcev1.GitOperationFailedReason
}

// fetchFailed marks FetchFailed and returns the error to retry with back-off;
// a URL or reference that can never work stalls instead.
func fetchFailed(reason string, err error) error {
	if errors.Is(err, git.ErrInvalidURL) || errors.Is(err, git.ErrInvalidReference) {
		return stallFetch(reason, err)
	}
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, reason, err)
}

func stallFetch(reason string, err error) error {
	return reconcile.StallingOn(sourcev1.FetchFailedCondition, reason, err)
}

func ptrEqual(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// parseURL parses the spec URL for the auth set-up; the Git client checks it in full.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", git.ErrInvalidURL, "cannot parse the URL")
	}
	return u, nil
}
