package receiver

// fluxVersion is the API version Flux 2.9 serves a kind at: a resource
// without apiVersion gets it (Flux's own Receivers leave it out).
func fluxVersion(kind string) (string, bool) {
	switch kind {
	case "GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "ExternalArtifact":
		return "source.toolkit.fluxcd.io/v1", true
	case "ArtifactGenerator":
		return "source.extensions.fluxcd.io/v1beta1", true
	case "Kustomization":
		return "kustomize.toolkit.fluxcd.io/v1", true
	case "HelmRelease":
		return "helm.toolkit.fluxcd.io/v2", true
	case "ImageRepository", "ImagePolicy", "ImageUpdateAutomation":
		return "image.toolkit.fluxcd.io/v1", true
	}
	return "", false
}
