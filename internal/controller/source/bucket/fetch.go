package bucket

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	s3 "github.com/driftless/driftless/internal/engine/bucket"
	"github.com/driftless/driftless/internal/reconcile"
)

// housekeeping is the kit's storage housekeeping, then status.url kept in
// step with the advertised address.
func (r *Reconciler) housekeeping(ctx context.Context, obj *sourcev1.Bucket, p *reconcile.Pass, f *Fetch) error {
	err := r.kit().Housekeeping(ctx, obj, p, f)
	r.setURL(obj)
	return err
}

// reconcileSource lists the bucket and computes its revision. When the
// stored artifact has that revision and was built with the same ignore
// rules, the listing is the whole pass: nothing is downloaded.
func (r *Reconciler) reconcileSource(ctx context.Context, obj *sourcev1.Bucket, p *reconcile.Pass, f *Fetch) error {
	cfg, err := r.config(ctx, obj, f)
	if err != nil {
		return err
	}
	if f.client, err = s3.New(cfg); err != nil {
		return f.failed("failed to set up the client", err)
	}
	ignore := ""
	if obj.Spec.Ignore != nil {
		ignore = *obj.Spec.Ignore
	}
	if f.listed, err = f.client.Index(ctx, ignore, s3.Limits{MaxFiles: r.MaxFiles, MaxSize: r.MaxSize}); err != nil {
		return f.failed("failed to list objects", err)
	}
	revision := s3.Revision(f.listed, r.Storage.DigestAlgo())
	f.Revision = revision
	p.Delete(sourcev1.FetchFailedCondition)
	if upToDate(obj, revision) {
		f.Unchanged = true
		return nil
	}
	if a := obj.Status.Artifact; a == nil || a.Revision != revision {
		msg := fmt.Sprintf("new upstream revision '%s'", revision)
		p.MarkTrue(sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason, msg)
		return p.Progress(sourcev1.NewRevisionReason, "building artifact: "+msg)
	}
	return nil
}

// download fetches the listed objects into a temporary directory: only the
// new and changed ones when this process holds the index the stored
// artifact was built from (the rest come from that artifact), all of them
// otherwise. The artifact's revision is the fetched objects' (each GET's
// ETag), so a change between the listing and the downloads is never
// hidden behind the listing's revision.
func (r *Reconciler) download(ctx context.Context, obj *sourcev1.Bucket, p *reconcile.Pass, f *Fetch) error {
	if f.Unchanged {
		return nil
	}
	dir, err := r.kit().NewTempDir(obj, p)
	if err != nil {
		return reconcile.FailedOn(sourcev1.StorageOperationFailedCondition, sourcev1.DirCreationFailedReason, err)
	}
	var prev *s3.Previous
	if last, ok := r.fetched.last(obj); ok {
		if local, err := r.Storage.LocalPath(obj.Status.Artifact.Path); err == nil && r.Storage.Exists(obj.Status.Artifact) {
			prev = &s3.Previous{Index: last.index, ArtifactPath: local, Digest: obj.Status.Artifact.Digest}
		}
	}
	if f.fetched, f.stats, err = f.client.Fetch(ctx, f.listed, dir, prev, s3.DefaultConcurrency); err != nil {
		return f.failed("failed to download objects", err)
	}
	f.Dir, f.Link = dir, LatestLink
	f.Revision = s3.Revision(f.fetched, r.Storage.DigestAlgo())
	f.File = strings.TrimPrefix(f.Revision, r.Storage.DigestAlgo()+":") + ".tar.gz"
	return nil
}

// remember keeps the fetched index as the stored artifact's, for the next
// new revision's incremental fetch and the new-artifact event.
func (r *Reconciler) remember(_ context.Context, obj *sourcev1.Bucket, _ *reconcile.Pass, f *Fetch) error {
	if f.Unchanged || obj.Status.Artifact == nil {
		return nil
	}
	r.fetched.remember(obj, lastFetch{revision: obj.Status.Artifact.Revision, digest: obj.Status.Artifact.Digest, index: f.fetched})
	return nil
}

// finalize removes the Bucket's artifacts and forgets its last fetch.
func (r *Reconciler) finalize(ctx context.Context, obj *sourcev1.Bucket, p *reconcile.Pass) error {
	r.fetched.forget(obj)
	return r.kit().Finalize(ctx, obj, p)
}

// upToDate tells whether the stored artifact is the one the spec asks for
// at revision: the same objects and the same ignore rules.
func upToDate(obj *sourcev1.Bucket, revision string) bool {
	a := obj.Status.Artifact
	if a == nil || a.Revision != revision || !reconcile.IsTrue(obj, sourcev1.ArtifactInStorageCondition) {
		return false
	}
	return ptrEqual(obj.Spec.Ignore, obj.Status.ObservedIgnore)
}

// failed marks FetchFailed with Flux's reason for an S3 error (the
// engine's errors name the endpoint and the bucket): AuthenticationFailed
// when the server refused the keys (with the Secret they came from),
// InvalidSTSConfiguration or URLInvalid for an STS setting that can never
// work (stalled), BucketOperationFailed for the rest, retried with
// back-off.
func (f *Fetch) failed(msg string, err error) error {
	switch {
	case s3.IsSTSURLInvalid(err):
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, fmt.Errorf("%s: %w", msg, err))
	case s3.IsInvalidSTSConfiguration(err):
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidSTSConfigurationReason, fmt.Errorf("%s: %w", msg, err))
	case s3.IsInvalidProvider(err):
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidProviderConfigurationReason, fmt.Errorf("%s: %w", msg, err))
	case s3.IsInvalidEndpoint(err):
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, fmt.Errorf("%s: %w", msg, err))
	case s3.IsAuthenticationFailed(err):
		if f.secret != "" {
			err = fmt.Errorf("%w (keys from secret '%s')", err, f.secret)
		} else {
			err = fmt.Errorf("%w (no secretRef: the request was anonymous)", err)
		}
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, fmt.Errorf("%s: %w", msg, err))
	case errors.Is(err, context.DeadlineExceeded):
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.BucketOperationFailedReason,
			fmt.Errorf("%s: no answer within the timeout (spec.timeout, %s by default; a bucket of tens of thousands of objects may need more): %w", msg, DefaultTimeout, err))
	}
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.BucketOperationFailedReason, fmt.Errorf("%s: %w", msg, err))
}

func ptrEqual(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
