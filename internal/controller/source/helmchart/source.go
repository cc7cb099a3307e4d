package helmchart

import (
	"context"
	"fmt"
	"path"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileSource resolves spec.sourceRef in the HelmChart's namespace. A
// source that does not exist, or has no artifact yet, is waited for; an OCI
// HelmRepository has no artifact and needs none.
func (r *Reconciler) reconcileSource(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	ref := obj.Spec.SourceRef
	var src client.Object
	switch ref.Kind {
	case sourcev1.HelmRepositoryKind:
		b.repo = &sourcev1.HelmRepository{}
		src = b.repo
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.BucketKind:
		src = &sourcev1.Bucket{}
	default:
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.SourceUnavailableReason,
			fmt.Errorf("unsupported source kind '%s': a HelmChart's sourceRef is a HelmRepository, GitRepository or Bucket", ref.Kind))
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Waiting(sourcev1.SourceUnavailableReason, 0, "%s '%s/%s' not found", ref.Kind, obj.Namespace, ref.Name)
		}
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.SourceUnavailableReason,
			fmt.Errorf("failed to get source %s '%s/%s': %w", ref.Kind, obj.Namespace, ref.Name, err))
	}
	b.src = src
	if b.repo != nil && b.repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		return nil
	}
	a := sourceArtifact(src)
	if a == nil {
		return reconcile.Waiting(sourcev1.NoSourceArtifactReason, 0, "no artifact available for %s source '%s'", ref.Kind, ref.Name)
	}
	// The artifact is read from this storage: it must be the source's own.
	if err := ownArtifact(ref.Kind, obj.Namespace, ref.Name, a); err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.SourceUnavailableReason, err)
	}
	if !r.Storage.Exists(a) {
		return reconcile.Waiting(sourcev1.NoSourceArtifactReason, 0, "no artifact available for %s source '%s': not in storage yet", ref.Kind, ref.Name)
	}
	return nil
}

// ownArtifact checks that a, read from this process's storage, is filed
// under the source it belongs to (<kind>/<namespace>/<name>/), once
// cleaned: a status naming another object's file, "../" included, is
// refused rather than read.
func ownArtifact(kind, namespace, name string, a *meta.Artifact) error {
	if !strings.HasPrefix(path.Clean(a.Path), artifact.ObjectDir(kind, namespace, name)+"/") {
		return fmt.Errorf("artifact path '%s' of %s '%s' is not filed under that source", a.Path, kind, name)
	}
	return nil
}
