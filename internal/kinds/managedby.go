package kinds

import (
	"k8s.io/apimachinery/pkg/types"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// ManagedBy is the Flux object that applied an object with these labels,
// read as `flux trace` reads them: a Helm release's
// helm.toolkit.fluxcd.io/name and /namespace first (the objects of a
// release a Kustomization applied carry both pairs, and the release is the
// nearer owner), then kustomize.toolkit.fluxcd.io/name and /namespace. It
// is false when neither pair is complete: the object is not managed by
// Flux. The answer comes from labels only; whether that owner exists, or
// may be seen, is for the caller to find out.
func ManagedBy(labels map[string]string) (Kind, types.NamespacedName, bool) {
	if name, ns := labels[helmv2.NameLabel], labels[helmv2.NamespaceLabel]; name != "" && ns != "" {
		return HelmRelease(), types.NamespacedName{Namespace: ns, Name: name}, true
	}
	if name, ns := labels[kustomizev1.NameLabel], labels[kustomizev1.NamespaceLabel]; name != "" && ns != "" {
		return Kustomization(), types.NamespacedName{Namespace: ns, Name: name}, true
	}
	return Kind{}, types.NamespacedName{}, false
}
