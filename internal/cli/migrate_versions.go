package cli

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	imagev1 "github.com/driftless/driftless/api/image/v1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	notificationv1beta3 "github.com/driftless/driftless/api/notification/v1beta3"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// fluxAPIVersions are the latest API version of every Flux kind in one
// Flux minor release: what `flux migrate -f` rewrites manifests to.
type fluxAPIVersions struct {
	flux   string
	latest map[schema.GroupKind]string
}

// latestFluxAPIs is the latest version of every Flux kind as of Flux 2.7,
// unchanged in 2.8 and 2.9 (those releases only stopped serving older
// versions, such as image.toolkit.fluxcd.io/v1beta2).
func latestFluxAPIs() map[schema.GroupKind]string {
	src := func(kind string) schema.GroupKind { return sourcev1.GroupVersion.WithKind(kind).GroupKind() }
	return map[schema.GroupKind]string{
		src(sourcev1.GitRepositoryKind):                                   sourcev1.GroupVersion.Version,
		src(sourcev1.OCIRepositoryKind):                                   sourcev1.GroupVersion.Version,
		src(sourcev1.HelmRepositoryKind):                                  sourcev1.GroupVersion.Version,
		src(sourcev1.HelmChartKind):                                       sourcev1.GroupVersion.Version,
		src(sourcev1.BucketKind):                                          sourcev1.GroupVersion.Version,
		src(sourcev1.ExternalArtifactKind):                                sourcev1.GroupVersion.Version,
		{Group: "source.extensions.fluxcd.io", Kind: "ArtifactGenerator"}: "v1beta1",

		kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind).GroupKind(): kustomizev1.GroupVersion.Version,
		helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind).GroupKind():             helmv2.GroupVersion.Version,

		notificationv1.GroupVersion.WithKind("Receiver").GroupKind():      notificationv1.GroupVersion.Version,
		notificationv1beta3.GroupVersion.WithKind("Alert").GroupKind():    notificationv1beta3.GroupVersion.Version,
		notificationv1beta3.GroupVersion.WithKind("Provider").GroupKind(): notificationv1beta3.GroupVersion.Version,

		imagev1.GroupVersion.WithKind(imagev1.ImageRepositoryKind).GroupKind():       imagev1.GroupVersion.Version,
		imagev1.GroupVersion.WithKind(imagev1.ImagePolicyKind).GroupKind():           imagev1.GroupVersion.Version,
		imagev1.GroupVersion.WithKind(imagev1.ImageUpdateAutomationKind).GroupKind(): imagev1.GroupVersion.Version,
	}
}

// fluxReleases are the Flux minor versions `migrate -v` accepts, newest
// first (Flux keeps the latest two).
func fluxReleases() []fluxAPIVersions {
	return []fluxAPIVersions{
		{flux: "2.9", latest: latestFluxAPIs()},
		{flux: "2.8", latest: latestFluxAPIs()},
	}
}

// targetAPIVersions returns the latest versions of the Flux minor version v
// ("2.9", "v2.9" or "2.9.4"); "" is the newest.
func targetAPIVersions(v string) (map[schema.GroupKind]string, error) {
	releases := fluxReleases()
	if v == "" {
		return releases[0].latest, nil
	}
	minor := strings.TrimPrefix(v, "v")
	if parts := strings.Split(minor, "."); len(parts) == 3 {
		minor = parts[0] + "." + parts[1]
	}
	var known []string
	for _, r := range releases {
		if r.flux == minor {
			return r.latest, nil
		}
		known = append(known, r.flux)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("--version %s is not supported: give one of %s", v, strings.Join(known, ", "))
}
