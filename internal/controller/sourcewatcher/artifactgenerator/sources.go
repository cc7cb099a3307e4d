package artifactgenerator

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/reconcile"
)

// sourceKinds are the kinds a generator reads (flux-api.md §2.8).
var sourceKinds = []string{swv1.BucketKind, swv1.GitRepositoryKind, swv1.OCIRepositoryKind, swv1.HelmChartKind, swv1.ExternalArtifactKind}

// validate refuses what the CRD's schema cannot: two sources with one
// alias, and sources in other namespaces under --no-cross-namespace-refs.
// The copy operations are validated by the generator engine.
func (r *Reconciler) validate(_ context.Context, obj *swv1.ArtifactGenerator, _ *reconcile.Pass, _ *State) error {
	seen := map[string]bool{}
	for i, s := range obj.Spec.Sources {
		if seen[s.Alias] {
			return reconcile.Stalling(swv1.ValidationFailedReason, "spec.sources[%d]: alias %q is used twice; give every source its own alias", i, s.Alias)
		}
		seen[s.Alias] = true
		if ns := obj.SourceNamespace(s); r.NoCrossNamespaceRefs && ns != obj.Namespace {
			return reconcile.Stalling(meta.AccessDeniedReason,
				"cannot access %s/%s/%s (source @%s), cross-namespace references have been disabled", s.Kind, ns, s.Name, s.Alias)
		}
	}
	return nil
}

// resolveSources reads every source. One that is missing or has no
// artifact yet is waited for (--requeue-dependency, and its watch brings
// the generator back at once); the previous ExternalArtifacts stay.
func (r *Reconciler) resolveSources(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass, st *State) error {
	for _, ref := range obj.Spec.Sources {
		ns := obj.SourceNamespace(ref)
		name := fmt.Sprintf("%s/%s/%s", ref.Kind, ns, ref.Name)
		src, err := sourceref.New(ref.Kind)
		if err != nil || !slices.Contains(sourceKinds, ref.Kind) {
			return reconcile.Stalling(swv1.ValidationFailedReason, "source @%s: kind %q is not one a generator reads (%s)", ref.Alias, ref.Kind, strings.Join(sourceKinds, ", "))
		}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, src); err != nil {
			if apierrors.IsNotFound(err) {
				// A missing source is more likely a typo than a wait: say so
				// in an event too, not only in Ready.
				err := reconcile.Waiting(SourceFetchFailedReason, 0, "source @%s: %s not found", ref.Alias, name)
				p.Event(corev1.EventTypeWarning, SourceFetchFailedReason, err.Error())
				return err
			}
			return reconcile.Failed(SourceFetchFailedReason, "source @%s: get %s: %w", ref.Alias, name, err)
		}
		if src.GetArtifact() == nil {
			return reconcile.Waiting(SourceFetchFailedReason, 0, "source @%s: %s is not ready, artifact not found", ref.Alias, name)
		}
		st.sources = append(st.sources, input{ref: ref, src: src})
	}
	st.digest = sourcesDigest(st.sources)
	return nil
}

// sourcesDigest is status.observedSourcesDigest: it changes when any
// source's artifact (or which object an alias names) changes.
func sourcesDigest(in []input) string {
	lines := make([]string, 0, len(in))
	for _, s := range in {
		a := s.src.GetArtifact()
		lines = append(lines, fmt.Sprintf("%s %s/%s/%s %s %s", s.ref.Alias, s.ref.Kind, s.src.GetNamespace(), s.src.GetName(), a.Digest, a.Revision))
	}
	sort.Strings(lines)
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(strings.Join(lines, "\n"))))
}

// check ends the pass early when the spec and the sources are those of the
// last published pass and every ExternalArtifact is as it was written: a
// watch event or the hourly requeue then costs a few cache reads.
func (r *Reconciler) check(ctx context.Context, obj *swv1.ArtifactGenerator, _ *reconcile.Pass, st *State) error {
	if obj.Status.ObservedSourcesDigest != st.digest || !r.published.same(obj, st.digest) {
		return nil
	}
	for _, e := range obj.Status.Inventory {
		ea, err := r.getArtifact(ctx, e.Namespace, e.Name)
		if err != nil || ea == nil || !r.published.intact(obj, ea) || !r.stored(ea) {
			return nil
		}
	}
	st.upToDate = true
	return nil
}

// fetch downloads and unpacks every source's artifact, digest verified.
func (r *Reconciler) fetch(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass, st *State) error {
	if st.upToDate {
		return nil
	}
	for i := range st.sources {
		s := &st.sources[i]
		kind := sourceref.KindOf(s.src)
		progress := fmt.Sprintf("fetching source @%s %s/%s/%s revision %s", s.ref.Alias, kind, s.src.GetNamespace(), s.src.GetName(), s.src.GetArtifact().Revision)
		dir, err := r.Unpacker.Unpack(ctx, p, s.src, progress, fmt.Sprintf("artifactgenerator-%s-%s-%s-", obj.Namespace, obj.Name, s.ref.Alias))
		if err != nil {
			return withReason(err, SourceFetchFailedReason, fmt.Sprintf("source @%s", s.ref.Alias))
		}
		s.dir = dir
	}
	return nil
}

// withReason gives a consumer-side error the generator's reason, keeping
// whether it stalls, waits or is retried, and names the source.
func withReason(err error, reason, what string) error {
	wrapped := fmt.Errorf("%s: %w", what, err)
	var s *reconcile.StallingError
	var w *reconcile.WaitingError
	switch {
	case errors.As(err, &s):
		return &reconcile.StallingError{Reason: reason, Err: wrapped}
	case errors.As(err, &w):
		return &reconcile.WaitingError{Reason: reason, After: w.After, Err: wrapped}
	}
	return &reconcile.GenericError{Reason: reason, Err: wrapped}
}
