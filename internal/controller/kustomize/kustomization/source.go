package kustomization

import (
	"context"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/reconcile"
)

// artifactSource is any source kind that publishes an artifact.
type artifactSource = sourceref.Source

// sourceKinds are the kinds a Kustomization's sourceRef may name.
var sourceKinds = []string{
	sourcev1.GitRepositoryKind,
	sourcev1.OCIRepositoryKind,
	sourcev1.BucketKind,
	sourcev1.ExternalArtifactKind,
}

// sourceRef is the Kustomization's sourceRef as the source kit reads it.
func sourceRef(obj *kustomizev1.Kustomization) sourceref.Ref {
	ref := obj.Spec.SourceRef
	return sourceref.Ref{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
}

// sourceKey is how a Kustomization's sourceRef is indexed: Kind/namespace/name.
func sourceKey(obj *kustomizev1.Kustomization) string {
	return sourceref.Key(obj.Namespace, sourceRef(obj))
}

// resolveSource fetches the source and checks it has an artifact. A
// missing source is looked for again after spec.retryInterval, a missing
// artifact when the watch on sources brings the Kustomization back.
func (r *Reconciler) resolveSource(ctx context.Context, obj *kustomizev1.Kustomization) (artifactSource, error) {
	if ref := obj.Spec.SourceRef; ref.Kind == sourcev1.ExternalArtifactKind && r.NoExternalArtifact {
		return nil, reconcile.Stalling(meta.ArtifactFailedReason,
			"spec.sourceRef names ExternalArtifact '%s', but this controller runs with --feature-gates=ExternalArtifact=false; enable the gate or use another source", ref.Name)
	}
	resolver := sourceref.Resolver{Client: r.Client, Kinds: sourceKinds, NoCrossNamespaceRefs: r.NoCrossNamespaceRefs}
	return resolver.Resolve(ctx, obj.Namespace, sourceRef(obj), obj.GetRetryInterval())
}

// unpacker downloads and unpacks source artifacts, shared per source
// revision when Unpacked is set.
func (r *Reconciler) unpacker() *sourceref.Unpacker {
	return &sourceref.Unpacker{Fetcher: r.Fetcher, Unpacked: r.Unpacked, TempDir: r.TempDir, Storage: r.Storage}
}
