package ocirepository

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcilePull reads the selected layer of the resolved digest into a
// temporary directory: extracted for the kit to archive, or copied for the
// kit to store as it is.
func (r *Reconciler) reconcilePull(ctx context.Context, obj *sourcev1.OCIRepository, p *reconcile.Pass, st *Pull) error {
	if st.Unchanged {
		return nil
	}
	tmp, err := r.kit().NewTempDir(obj, p)
	if err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.OCIPullFailedReason, err)
	}
	layer, extracted := r.maxSizes()
	opts := oci.PullOptions{Operation: obj.GetLayerOperation(), MaxSize: layer, MaxExtractSize: extracted}
	if s := obj.Spec.LayerSelector; s != nil {
		opts.MediaType = s.MediaType
	}
	if opts.Operation == sourcev1.OCILayerCopy {
		opts.File = filepath.Join(tmp, "layer.tgz")
		st.Blob = opts.File
	} else {
		opts.Dir = filepath.Join(tmp, "content")
		st.Dir = opts.Dir
	}
	pulled, err := st.client.Pull(ctx, st.repo, st.resolved.Digest, opts)
	if err != nil {
		return st.pullFailed(obj, err)
	}
	st.annotations = pulled.Annotations
	return nil
}

// pullFailed marks FetchFailed: OCIArtifactLayerOperationFailed when the
// layer is missing, too large or cannot be extracted, OCIArtifactPullFailed
// (or AuthenticationFailed) when the registry failed.
func (p *Pull) pullFailed(obj *sourcev1.OCIRepository, err error) error {
	msg := fmt.Sprintf("failed to pull artifact '%s' from '%s'", p.resolved.Revision, obj.Spec.URL)
	switch {
	case errors.Is(err, oci.ErrTooLarge):
		err = fmt.Errorf("%w; the controller's --artifact-max-size bounds it", err)
		fallthrough
	case errors.Is(err, oci.ErrLayerNotFound), errors.Is(err, oci.ErrInvalidArtifact):
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.OCILayerOperationFailedReason,
			fmt.Errorf("%s: %w", msg, err))
	}
	return p.fetchFailed(msg, err)
}
