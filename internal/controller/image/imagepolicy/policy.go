package imagepolicy

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/controller/image/imagerepository"
	"github.com/driftless/driftless/internal/engine/imagepolicy"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcilePolicy picks the latest tag and records it in latestRef, with
// its digest as spec.digestReflectionPolicy says. When nothing can be
// picked the previous latestRef stays: an automation keeps what it has.
//
// status.selection keeps the counts and best candidates of the evaluation,
// also when nothing matched (why none); a spec that cannot select leaves
// it empty, as the earlier steps do when there are no tags to select from.
func (r *Reconciler) reconcilePolicy(ctx context.Context, obj *imagev1.ImagePolicy, p *reconcile.Pass, st *Evaluation) error {
	spec, err := engineSpec(obj)
	if err != nil {
		return err
	}
	if r.Evaluations != nil {
		select {
		case r.Evaluations <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	res, err := imagepolicy.Select(st.tags, spec)
	if r.Evaluations != nil {
		<-r.Evaluations
	}
	var specErr *imagepolicy.SpecError
	if !errors.As(err, &specErr) {
		obj.Status.Selection = selection(st.repo.Status.LastScanResult.Revision, res)
	}
	if err != nil {
		// Flux resets observedPreviousRef on a failure, so that a
		// recovery is not mistaken for an upgrade.
		obj.Status.ObservedPreviousRef = nil
		if specErr != nil {
			return reconcile.Stalling(meta.FailedReason, "%w", err)
		}
		return reconcile.Failed(meta.FailedReason, "%w", err)
	}
	latest := imagev1.ImageRef{Name: st.repo.Spec.Image, Tag: res.Tag}
	if latest.Digest, err = r.digest(ctx, obj, st.repo, latest); err != nil {
		obj.Status.ObservedPreviousRef = nil
		return err
	}
	old := obj.Status.LatestRef
	if old != nil && *old == latest {
		return nil
	}
	obj.Status.ObservedPreviousRef = old
	obj.Status.LatestRef = &latest
	if old != nil && old.Name == latest.Name && old.Tag == latest.Tag {
		p.Event(corev1.EventTypeNormal, meta.SucceededReason,
			fmt.Sprintf("Latest image digest for '%s:%s' updated from %s to %s", latest.Name, latest.Tag, old.Digest, latest.Digest))
		return nil
	}
	// The event says what Ready says, so the skeleton does not repeat it.
	p.Event(corev1.EventTypeNormal, meta.SucceededReason, readyMessage(&latest))
	return nil
}

// selection is the status form of an engine Result made from the tags of
// one scan revision. A candidate's value is kept only when filterTags.extract
// made it differ from the tag.
func selection(revision string, res imagepolicy.Result) *imagev1.TagSelection {
	sel := &imagev1.TagSelection{
		Revision:     revision,
		Total:        res.Total,
		Filtered:     res.Filtered,
		Unparsed:     res.Unparsed,
		UnparsedTags: res.UnparsedTags,
	}
	for _, c := range res.Best {
		cand := imagev1.TagCandidate{Tag: c.Tag}
		if c.Value != c.Tag {
			cand.Value = c.Value
		}
		sel.Best = append(sel.Best, cand)
	}
	return sel
}

// engineSpec is the policy part of the spec for the engine. Of several
// policies set, the first of semver, alphabetical, numerical counts, as in
// Flux; none set stalls.
func engineSpec(obj *imagev1.ImagePolicy) (imagepolicy.Spec, error) {
	var s imagepolicy.Spec
	if f := obj.Spec.FilterTags; f != nil {
		s.Pattern, s.Extract = f.Pattern, f.Extract
	}
	switch pol := obj.Spec.Policy; {
	case pol.SemVer != nil:
		s.Kind, s.Range = imagepolicy.Semver, pol.SemVer.Range
	case pol.Alphabetical != nil:
		s.Kind, s.Order = imagepolicy.Alphabetical, pol.Alphabetical.Order
	case pol.Numerical != nil:
		s.Kind, s.Order = imagepolicy.Numerical, pol.Numerical.Order
	default:
		return s, reconcile.Stalling(meta.FailedReason, "spec.policy sets none of semver, alphabetical and numerical")
	}
	return s, nil
}

// digest is the digest latestRef reports: none with Never; with
// IfNotPresent the one already known for the same image and tag, else the
// registry's; with Always the registry's every time. The registry is asked
// with the repository's own credentials, TLS and proxy.
func (r *Reconciler) digest(ctx context.Context, obj *imagev1.ImagePolicy, repo *imagev1.ImageRepository, ref imagev1.ImageRef) (string, error) {
	switch obj.GetDigestReflectionPolicy() {
	case imagev1.ReflectNever:
		return "", nil
	case imagev1.ReflectIfNotPresent:
		if old := obj.Status.LatestRef; old != nil && old.Name == ref.Name && old.Tag == ref.Tag && old.Digest != "" {
			return old.Digest, nil
		}
	}
	img, err := imagerepository.ParseImage(repo.Spec.Image, repo.Spec.Insecure)
	if err != nil {
		return "", reconcile.Waiting(meta.DependencyNotReadyReason, 0, "ImageRepository '%s/%s': %v", repo.Namespace, repo.Name, err)
	}
	opts, creds, err := r.Auth.ClientOptions(ctx, repo)
	if err != nil {
		return "", reconcile.Failed(imagev1.AuthenticationFailedReason,
			"failed to read the credentials of ImageRepository '%s/%s' for the digest of '%s': %w", repo.Namespace, repo.Name, ref.Tag, err)
	}
	resolved, err := oci.NewClient(opts).Resolve(ctx, img.Repository, oci.Selector{Tag: ref.Tag})
	if err != nil {
		if errors.Is(err, oci.ErrUnauthorized) || errors.Is(err, oci.ErrForbidden) {
			return "", reconcile.Failed(imagev1.AuthenticationFailedReason, "failed to get the digest of '%s:%s': %w",
				ref.Name, ref.Tag, creds.ExplainRefusal(err, img.Repository.Registry, img.Resource))
		}
		return "", reconcile.Failed(imagev1.ReadOperationFailedReason, "failed to get the digest of '%s:%s': %w", ref.Name, ref.Tag, err)
	}
	return resolved.Digest, nil
}
