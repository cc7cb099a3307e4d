package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/postrender"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/reconcile"
)

// postRenderDigests are the spec's post-renderers and common metadata
// digests, Flux's status.observed*Digest.
func postRenderDigests(obj *helmv2.HelmRelease) (string, string) {
	return postrender.PostRenderersDigest(obj.Spec.PostRenderers), postrender.CommonMetadataDigest(obj.Spec.CommonMetadata)
}

// recordLabels are the labels of the release records an install or
// upgrade writes: the owner labels, and the post-render strategy the
// release is rendered with (release.PostRenderStrategyLabel), so that a
// change of spec.postRenderStrategy upgrades.
func recordLabels(obj *helmv2.HelmRelease, st *State) map[string]string {
	labels := ownerLabels(obj)
	labels[release.PostRenderStrategyLabel] = st.renderer.Strategy()
	return labels
}

// inventory lists the objects of a release's manifest (hooks are not in
// it) and of its chart's CRDs, as status.inventory.
func inventory(rls *helmrelease.Release, t *helmkube.Target) (*helmv2.ResourceInventory, error) {
	inv := &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{}}
	seen := map[string]bool{}
	add := func(manifest string) error {
		dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
		for {
			var u unstructured.Unstructured
			if err := dec.Decode(&u.Object); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if len(u.Object) == 0 || u.GetKind() == "" {
				continue
			}
			ref := apply.RefOf(&u)
			if ref.Namespace == "" && namespaced(t, &u) {
				ref.Namespace = rls.Namespace
			}
			if !namespaced(t, &u) {
				ref.Namespace = ""
			}
			if id := ref.ID(); !seen[id] {
				seen[id] = true
				inv.Entries = append(inv.Entries, helmv2.ResourceRef{ID: id, Version: ref.Version})
			}
		}
	}
	if rls.Chart != nil {
		for _, crd := range rls.Chart.CRDObjects() {
			if crd.File != nil {
				if err := add(string(crd.File.Data)); err != nil {
					return nil, fmt.Errorf("CRD %s: %w", crd.Filename, err)
				}
			}
		}
	}
	if err := add(rls.Manifest); err != nil {
		return nil, err
	}
	slices.SortFunc(inv.Entries, func(a, b helmv2.ResourceRef) int { return strings.Compare(a.ID, b.ID) })
	return inv, nil
}

// namespaced tells whether an object's kind is namespaced, as the target's
// RESTMapper knows it; an unknown kind counts as namespaced.
func namespaced(t *helmkube.Target, u *unstructured.Unstructured) bool {
	if t == nil {
		return u.GetNamespace() != ""
	}
	m, err := t.RESTMapper().RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	if err != nil {
		return true
	}
	return m.Scope.Name() == apimeta.RESTScopeNameNamespace
}

// finalize uninstalls the release when the HelmRelease goes (unless it is
// suspended: then the release is left, and an event says so) and removes
// the HelmChart spec.chart made.
func (r *Reconciler) finalize(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass) error {
	r.forgetReleasedObjects(obj)
	if obj.Spec.Suspend {
		p.Event("Normal", "Suspended", fmt.Sprintf("the HelmRelease is suspended: release %s is left in place", releaseRef(obj)))
	} else {
		st := &State{}
		if err := r.target(ctx, obj, p, st); err != nil {
			if why := cannotReach(obj, err); why != "" {
				// A finalizer waiting for a kubeconfig that is gone or
				// refused would hold the object (and its namespace) forever.
				p.Event("Warning", "UninstallSkipped", fmt.Sprintf("release %s is left in place: %s", releaseRef(obj), why))
				return r.deleteGeneratedChart(ctx, obj)
			}
			return err
		}
		rls, err := lastRecord(st.cfg, obj.GetReleaseName())
		if err != nil {
			return err
		}
		if rls != nil && rls.Labels[helmv2.NameLabel] == obj.Name && rls.Labels[helmv2.NamespaceLabel] == obj.Namespace {
			if err := r.uninstall(ctx, obj, p, st, false); err != nil {
				return err
			}
		}
	}
	return r.deleteGeneratedChart(ctx, obj)
}
