package ocirepository

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// housekeeping is the kit's storage housekeeping, then status.url kept in
// step with the advertised address.
func (r *Reconciler) housekeeping(ctx context.Context, obj *sourcev1.OCIRepository, p *reconcile.Pass, st *Pull) error {
	err := r.kit().Housekeeping(ctx, obj, p, st)
	r.setURL(obj)
	return err
}

// reconcileSource resolves spec.ref to one manifest digest. When the stored
// artifact was built from that digest with the same ignore rules and layer
// selector, that one request is the whole pass: nothing is pulled.
func (r *Reconciler) reconcileSource(ctx context.Context, obj *sourcev1.OCIRepository, p *reconcile.Pass, st *Pull) error {
	repo, err := oci.ParseURL(obj.Spec.URL)
	if err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, err)
	}
	st.repo = repo
	opts, creds, err := r.clientOptions(ctx, obj)
	var stalled *reconcile.StallingError
	if errors.As(err, &stalled) {
		return err
	}
	if err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason,
			fmt.Errorf("failed to read the credentials for '%s' (%s): %w", obj.Spec.URL, describeRef(obj), err))
	}
	st.client, st.creds = oci.NewClient(opts), creds

	resolved, err := st.client.Resolve(ctx, repo, selector(obj))
	if err != nil {
		return st.fetchFailed("failed to determine artifact digest", err)
	}
	st.resolved, st.Revision = resolved, resolved.Revision
	p.Delete(sourcev1.FetchFailedCondition)
	if r.upToDate(obj, resolved.Revision) {
		st.Unchanged = true
		return nil
	}

	hex := resolved.Digest[strings.IndexByte(resolved.Digest, ':')+1:]
	st.File, st.Link, st.Ignore = hex+".tar.gz", LatestLink, obj.Spec.Ignore
	if obj.GetLayerOperation() == sourcev1.OCILayerCopy {
		st.File = hex + ".tgz"
	}
	if a := obj.Status.Artifact; a == nil || a.Revision != resolved.Revision {
		msg := fmt.Sprintf("new revision '%s' for '%s'", resolved.Revision, obj.Spec.URL)
		p.MarkTrue(sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason, msg)
		return p.Progress(sourcev1.NewRevisionReason, "building artifact: "+msg)
	}
	return nil
}

// upToDate tells whether the stored artifact is the one the spec asks for
// at revision: same digest, same ignore rules, same layer selection.
func (r *Reconciler) upToDate(obj *sourcev1.OCIRepository, revision string) bool {
	a := obj.Status.Artifact
	if a == nil || a.Revision != revision || !reconcile.IsTrue(obj, sourcev1.ArtifactInStorageCondition) {
		return false
	}
	return ptrEqual(obj.Spec.Ignore, obj.Status.ObservedIgnore) &&
		sameLayerSelector(obj.Spec.LayerSelector, obj.Status.ObservedLayerSelector)
}

// sameLayerSelector compares two selectors with their defaults filled in.
func sameLayerSelector(a, b *sourcev1.OCILayerSelector) bool {
	norm := func(s *sourcev1.OCILayerSelector) sourcev1.OCILayerSelector {
		var out sourcev1.OCILayerSelector
		if s != nil {
			out = *s
		}
		if out.Operation == "" {
			out.Operation = sourcev1.OCILayerExtract
		}
		return out
	}
	return norm(a) == norm(b)
}

// describeRef says what spec.ref asks for, for messages.
func describeRef(obj *sourcev1.OCIRepository) string {
	sel := selector(obj)
	switch {
	case sel.Digest != "":
		return fmt.Sprintf("digest '%s'", sel.Digest)
	case sel.SemVer != "":
		return fmt.Sprintf("semver range '%s'", sel.SemVer)
	case sel.Tag != "":
		return fmt.Sprintf("tag '%s'", sel.Tag)
	}
	return fmt.Sprintf("tag '%s'", oci.DefaultTag)
}

// selector is spec.ref for the registry client.
func selector(obj *sourcev1.OCIRepository) oci.Selector {
	ref := obj.Spec.Reference
	if ref == nil {
		return oci.Selector{}
	}
	return oci.Selector{Digest: ref.Digest, SemVer: ref.SemVer, SemverFilter: ref.SemverFilter, Tag: ref.Tag}
}

// fetchFailed marks FetchFailed with Flux's reason for a registry error:
// AuthenticationFailed for 401 and 403 (saying which Secret was sent),
// OCIArtifactPullFailed for the rest. A selector that can never work (a bad
// range or filter) stalls; anything else is retried with back-off.
func (p *Pull) fetchFailed(msg string, err error) error {
	reason := sourcev1.OCIPullFailedReason
	if errors.Is(err, oci.ErrUnauthorized) || errors.Is(err, oci.ErrForbidden) {
		reason = sourcev1.AuthenticationFailedReason
		err = p.explainRefusal(err)
	}
	err = fmt.Errorf("%s: %w", msg, err)
	if oci.IsStalling(err) {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, reason, err)
	}
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, reason, err)
}

func ptrEqual(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
