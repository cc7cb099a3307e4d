package imagepolicy

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/tagstore"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileRepository finds the policy's ImageRepository and checks the
// policy may use it and it has scanned. It clears status.selection, which
// only the policy step sets. What is missing is waited for: the
// watch on ImageRepositories brings the policy back when it changes.
func (r *Reconciler) reconcileRepository(ctx context.Context, obj *imagev1.ImagePolicy, _ *reconcile.Pass, st *Evaluation) error {
	// Until the policy step evaluates the tags again, there is no
	// selection to show: none is kept from another revision or spec.
	obj.Status.Selection = nil
	ref := repositoryRef(obj)
	cross := ref.Namespace != obj.Namespace
	if cross && r.NoCrossNamespaceRefs {
		return reconcile.Stalling(meta.AccessDeniedReason,
			"cannot access ImageRepository '%s', cross-namespace references have been disabled", ref)
	}
	repo := &imagev1.ImageRepository{}
	if err := r.Client.Get(ctx, ref, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "referenced ImageRepository '%s' does not exist", ref)
		}
		return reconcile.Failed(meta.FailedReason, "failed to get ImageRepository '%s': %w", ref, err)
	}
	if cross {
		if err := r.checkAccess(ctx, obj, repo); err != nil {
			return err
		}
	}
	if repo.Status.LastScanResult == nil || !reconcile.IsTrue(repo, meta.ReadyCondition) {
		return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "ImageRepository '%s' is not ready", ref)
	}
	st.repo = repo
	return nil
}

// checkAccess lets a policy use a repository of another namespace only
// when the repository's spec.accessFrom selects the policy's namespace.
// A refusal is retried with back-off: the repository's accessFrom (which
// the watch follows) or the namespace's labels may change.
func (r *Reconciler) checkAccess(ctx context.Context, obj *imagev1.ImagePolicy, repo *imagev1.ImageRepository) error {
	ref := types.NamespacedName{Namespace: repo.Namespace, Name: repo.Name}
	denied := func(why string) error {
		return reconcile.Failed(meta.AccessDeniedReason, "access denied to ImageRepository '%s' from namespace '%s': %s",
			ref, obj.Namespace, why)
	}
	if repo.Spec.AccessFrom == nil || len(repo.Spec.AccessFrom.NamespaceSelectors) == 0 {
		return denied("its spec.accessFrom selects no namespace")
	}
	var ns corev1.Namespace
	if err := r.APIReader.Get(ctx, types.NamespacedName{Name: obj.Namespace}, &ns); err != nil {
		return reconcile.Failed(meta.AccessDeniedReason, "failed to read namespace '%s' for the accessFrom of ImageRepository '%s': %w",
			obj.Namespace, ref, err)
	}
	for _, sel := range repo.Spec.AccessFrom.NamespaceSelectors {
		if labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(ns.Labels)) {
			return nil
		}
	}
	return denied("its spec.accessFrom.namespaceSelectors do not select the namespace")
}

// lostTagsRetry is how soon a policy whose tags the store lost looks
// again: the repository is asked to scan at once, but a scan that finds the
// same tags keeps its revision, which does not wake the policy.
const lostTagsRetry = 2 * time.Second

// reconcileTags reads the repository's tags at its last scan revision. A
// list the store lost (a deleted or corrupt file) is waited for, and the
// repository asked to scan again now.
func (r *Reconciler) reconcileTags(_ context.Context, _ *imagev1.ImagePolicy, _ *reconcile.Pass, st *Evaluation) error {
	rev := st.repo.Status.LastScanResult.Revision
	tags, err := r.Store.Get(st.repo.Namespace, st.repo.Name, rev)
	if errors.Is(err, tagstore.ErrNotStored) {
		if r.Rescan != nil {
			r.Rescan(types.NamespacedName{Namespace: st.repo.Namespace, Name: st.repo.Name})
		}
		return reconcile.Waiting(meta.DependencyNotReadyReason, lostTagsRetry,
			"the tags of ImageRepository '%s/%s' at revision %s are not stored; waiting for its next scan",
			st.repo.Namespace, st.repo.Name, rev)
	}
	if err != nil {
		return reconcile.Failed(imagev1.ReadOperationFailedReason, "failed to read the tags of ImageRepository '%s/%s': %w",
			st.repo.Namespace, st.repo.Name, err)
	}
	st.tags = tags
	return nil
}
