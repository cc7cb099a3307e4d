package imagerepository

import (
	"context"
	"errors"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/engine/tagstore"
	"github.com/driftless/driftless/internal/reconcile"
)

// LatestTagsCount is how many tags status.lastScanResult.latestTags shows.
const LatestTagsCount = 10

// reconcileScan scans the repository when a scan is due (see scanReason);
// otherwise the pass ends without a registry request, the status stays as
// the last scan left it, and the repository is woken when the rest of the
// interval has passed.
func (r *Reconciler) reconcileScan(ctx context.Context, obj *imagev1.ImageRepository, _ *reconcile.Pass, st *Scan) error {
	key := client.ObjectKeyFromObject(obj)
	if r.scanReason(obj, st) == "" {
		r.wake.after(key, obj.Status.LastScanResult.ScanTime.Add(obj.Spec.Interval.Duration).Sub(r.now()))
		return nil
	}
	r.wake.cancel(key)
	opts, creds, err := r.Auth.ClientOptions(ctx, obj)
	var stalled *reconcile.StallingError
	if errors.As(err, &stalled) {
		return err
	}
	if err != nil {
		return reconcile.Failed(imagev1.AuthenticationFailedReason,
			"failed to read the credentials for '%s': %w", obj.Spec.Image, err)
	}
	tags, err := oci.NewClient(opts).Tags(ctx, st.image.Repository)
	if err != nil {
		if errors.Is(err, oci.ErrUnauthorized) || errors.Is(err, oci.ErrForbidden) {
			return reconcile.Failed(imagev1.AuthenticationFailedReason, "failed to list the tags of '%s': %w",
				obj.Spec.Image, creds.ExplainRefusal(err, st.image.Repository.Registry, st.image.Resource))
		}
		return reconcile.Failed(imagev1.ReadOperationFailedReason, "failed to list the tags of '%s' from %s: %w",
			obj.Spec.Image, st.image.Repository.Registry, err)
	}
	tags = exclude(tags, st.exclusions)
	revision, err := r.Store.Put(obj.Namespace, obj.Name, tags)
	if err != nil {
		return reconcile.Failed(imagev1.ReadOperationFailedReason, "failed to store the tags of '%s': %w", obj.Spec.Image, err)
	}
	obj.Status.CanonicalImageName = st.image.Canonical
	obj.Status.ObservedExclusionList = slices.Clone(ExclusionList(obj))
	obj.Status.LastScanResult = &imagev1.ScanResult{
		Revision:   revision,
		TagCount:   len(tags),
		ScanTime:   metav1.NewTime(r.now()),
		LatestTags: latestTags(tags),
	}
	return nil
}

// scanReason says why the repository must be scanned in this pass, or ""
// when nothing asks for it: never scanned, a new generation, a reconcile
// request, a new canonical name or exclusion list, the last attempt failed,
// the store lost the list (a deleted or corrupt file), or the interval has
// passed since the last scan.
func (r *Reconciler) scanReason(obj *imagev1.ImageRepository, st *Scan) string {
	last := obj.Status.LastScanResult
	switch {
	case last == nil:
		return "first scan"
	case obj.Generation != obj.Status.ObservedGeneration:
		return "new generation"
	case requested(obj):
		return "reconcile requested"
	case obj.Status.CanonicalImageName != st.image.Canonical:
		return "new image name"
	case !slices.Equal(obj.Status.ObservedExclusionList, ExclusionList(obj)):
		return "new exclusion list"
	case retrying(obj):
		return "retry after a failure"
	case r.due(obj, last):
		return "interval passed"
	}
	if _, err := r.Store.Get(obj.Namespace, obj.Name, last.Revision); errors.Is(err, tagstore.ErrNotStored) {
		return "no stored tags at the last revision"
	} else if err != nil {
		return "stored tags unreadable"
	}
	return ""
}

// dueSlack is how early before the interval a scan still counts as due:
// the skeleton requeues a success after the interval moved by up to ±5%
// (jitter), and a requeue that arrives a little early must scan, not wait
// a whole interval more.
const dueSlack = 10 // percent of the interval

// due tells whether the interval has passed since the last scan.
func (r *Reconciler) due(obj *imagev1.ImageRepository, last *imagev1.ScanResult) bool {
	interval := obj.Spec.Interval.Duration
	elapsed := r.now().Sub(last.ScanTime.Time)
	return elapsed >= interval-interval*dueSlack/100
}

// requested tells whether the object carries a reconcile request not
// handled yet (the skeleton records it at the end of the pass).
func requested(obj *imagev1.ImageRepository) bool {
	v, ok := obj.GetAnnotations()[meta.ReconcileRequestAnnotation]
	return ok && v != obj.Status.LastHandledReconcileAt
}

// retrying tells whether the previous pass failed: the skeleton starts a
// pass after a failed one with Reconciling's reason ProgressingWithRetry.
// Such a pass scans again, whatever the time: the failure left no scan
// behind, and the back-off, not the interval, sets its pace.
func retrying(obj *imagev1.ImageRepository) bool {
	c := reconcile.Get(obj, meta.ReconcilingCondition)
	return c != nil && c.Reason == meta.ProgressingWithRetryReason
}

// latestTags are the first LatestTagsCount tags in descending order, as
// Flux shows them.
func latestTags(tags []string) []string {
	if !slices.IsSorted(tags) {
		tags = slices.Clone(tags)
		slices.Sort(tags)
	}
	out := make([]string, 0, min(len(tags), LatestTagsCount))
	for i := len(tags) - 1; i >= 0 && len(out) < LatestTagsCount; i-- {
		out = append(out, tags[i])
	}
	return out
}
