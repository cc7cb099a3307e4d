package kustomization

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// artifactSource is any source kind that publishes an artifact.
type artifactSource = reconcile.ArtifactSource

// newSource returns an empty object of the source kind a Kustomization names.
func newSource(kind string) (artifactSource, error) {
	switch kind {
	case sourcev1.GitRepositoryKind:
		return &sourcev1.GitRepository{}, nil
	case sourcev1.OCIRepositoryKind:
		return &sourcev1.OCIRepository{}, nil
	case sourcev1.BucketKind:
		return &sourcev1.Bucket{}, nil
	case sourcev1.ExternalArtifactKind:
		return &sourcev1.ExternalArtifact{}, nil
	}
	return nil, fmt.Errorf("source kind '%s' is not supported", kind)
}

// sourceKey is how a Kustomization's sourceRef is indexed: Kind/namespace/name.
func sourceKey(obj *kustomizev1.Kustomization) string {
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return fmt.Sprintf("%s/%s/%s", ref.Kind, ns, ref.Name)
}

// resolveSource fetches the source and checks it has an artifact. A
// missing source or artifact is waited for, not retried with back-off: the
// watch on sources brings the Kustomization back as soon as it appears.
func (r *Reconciler) resolveSource(ctx context.Context, obj *kustomizev1.Kustomization) (artifactSource, error) {
	ref := obj.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if r.NoCrossNamespaceRefs && ns != obj.Namespace {
		return nil, reconcile.Stalling(meta.AccessDeniedReason,
			"cannot access %s/%s/%s, cross-namespace references have been disabled", ref.Kind, ns, ref.Name)
	}
	src, err := newSource(ref.Kind)
	if err != nil {
		return nil, &reconcile.StallingError{Reason: meta.ArtifactFailedReason, Err: err}
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, reconcile.Waiting(meta.ArtifactFailedReason, obj.GetRetryInterval(),
				"Source '%s/%s/%s' not found", ref.Kind, ns, ref.Name)
		}
		return nil, reconcile.Failed(meta.ArtifactFailedReason, "get source '%s/%s/%s': %w", ref.Kind, ns, ref.Name, err)
	}
	if src.GetArtifact() == nil {
		return nil, reconcile.Waiting(meta.ArtifactFailedReason, 0,
			"Source '%s/%s/%s' is not ready, artifact not found", ref.Kind, ns, ref.Name)
	}
	return src, nil
}

// checkArtifactURL refuses an artifact URL of a source kind the storage
// server keeps that is not filed under that very source
// (<kind>/<namespace>/<name>/): the fetcher only talks to the storage
// server, and this keeps a forged status from naming another tenant's
// artifact on it. ExternalArtifacts, published by other controllers, are
// filed as those controllers choose.
func checkArtifactURL(src artifactSource) error {
	kind := kindOf(src)
	if kind == sourcev1.ExternalArtifactKind {
		return nil
	}
	raw := src.GetArtifact().URL
	u, err := url.Parse(raw)
	if err != nil {
		return reconcile.Failed(meta.ArtifactFailedReason, "artifact URL of %s '%s/%s': %w", kind, src.GetNamespace(), src.GetName(), err)
	}
	want := "/" + strings.ToLower(kind) + "/" + src.GetNamespace() + "/" + src.GetName() + "/"
	if !strings.HasPrefix(path.Clean(u.Path), want) {
		return reconcile.Failed(meta.ArtifactFailedReason,
			"artifact URL %s is not filed under %s on the storage server: refusing an artifact of another source", raw, want)
	}
	return nil
}
