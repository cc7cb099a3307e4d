// Package sourceref is the consumer side of sources, for every kind that
// reads another's artifact (Kustomization today; HelmChart and HelmRelease
// next): it maps a sourceRef's kind to its type, resolves the reference
// under the cross-namespace rule, and downloads and unpacks the artifact
// from the storage server, pinned to the source that published it.
package sourceref

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// Source is any source kind that publishes an artifact.
type Source = reconcile.ArtifactSource

// Ref is a consumer's reference to a source; an empty Namespace is the
// consumer's own.
type Ref struct {
	Kind, Namespace, Name string
}

// Key is how a consumer's sourceRef is indexed: Kind/namespace/name, the
// namespace defaulted to the consumer's.
func Key(consumerNamespace string, ref Ref) string {
	ns := ref.Namespace
	if ns == "" {
		ns = consumerNamespace
	}
	return fmt.Sprintf("%s/%s/%s", ref.Kind, ns, ref.Name)
}

// New returns an empty object of a source kind.
func New(kind string) (Source, error) {
	switch kind {
	case sourcev1.GitRepositoryKind:
		return &sourcev1.GitRepository{}, nil
	case sourcev1.OCIRepositoryKind:
		return &sourcev1.OCIRepository{}, nil
	case sourcev1.BucketKind:
		return &sourcev1.Bucket{}, nil
	case sourcev1.HelmRepositoryKind:
		return &sourcev1.HelmRepository{}, nil
	case sourcev1.HelmChartKind:
		return &sourcev1.HelmChart{}, nil
	case sourcev1.ExternalArtifactKind:
		return &sourcev1.ExternalArtifact{}, nil
	}
	return nil, fmt.Errorf("source kind '%s' is not supported", kind)
}

// KindOf names the source kind of o (typed objects from the cache carry no
// kind), or "" when o is no source.
func KindOf(o client.Object) string {
	switch o.(type) {
	case *sourcev1.GitRepository:
		return sourcev1.GitRepositoryKind
	case *sourcev1.OCIRepository:
		return sourcev1.OCIRepositoryKind
	case *sourcev1.Bucket:
		return sourcev1.BucketKind
	case *sourcev1.HelmRepository:
		return sourcev1.HelmRepositoryKind
	case *sourcev1.HelmChart:
		return sourcev1.HelmChartKind
	case *sourcev1.ExternalArtifact:
		return sourcev1.ExternalArtifactKind
	}
	return ""
}

// Resolver resolves the sourceRefs of one consumer kind.
type Resolver struct {
	// Client reads sources (through the shared cache).
	Client client.Reader
	// Kinds are the source kinds the consumer accepts.
	Kinds []string
	// NoCrossNamespaceRefs refuses sources in other namespaces.
	NoCrossNamespaceRefs bool
}

// Resolve fetches the source ref names for a consumer in namespace and
// checks it has an artifact. A missing source is waited for, looking again
// after retry; a missing artifact is waited for with the controller's
// --requeue-dependency. Neither is retried with back-off: the consumer's
// watch on sources brings it back as soon as the source or its artifact
// appears.
func (r *Resolver) Resolve(ctx context.Context, namespace string, ref Ref, retry time.Duration) (Source, error) {
	ns := ref.Namespace
	if ns == "" {
		ns = namespace
	}
	if r.NoCrossNamespaceRefs && ns != namespace {
		return nil, reconcile.Stalling(meta.AccessDeniedReason,
			"cannot access %s/%s/%s, cross-namespace references have been disabled", ref.Kind, ns, ref.Name)
	}
	src, err := r.new(ref.Kind)
	if err != nil {
		return nil, &reconcile.StallingError{Reason: meta.ArtifactFailedReason, Err: err}
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, reconcile.Waiting(meta.ArtifactFailedReason, retry,
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

// new returns an empty object of kind if the consumer accepts it.
func (r *Resolver) new(kind string) (Source, error) {
	if !slices.Contains(r.Kinds, kind) {
		return nil, fmt.Errorf("source kind '%s' is not supported", kind)
	}
	return New(kind)
}
