// Package v1beta1 holds the Go types of the source.extensions.fluxcd.io/v1beta1
// API group: the ArtifactGenerator of Flux's source-watcher. An
// ArtifactGenerator reads the Artifacts of other sources and writes new ones,
// published as ExternalArtifacts, so that a monorepo can be split into
// independently reconciled parts or several sources composed into one. The
// JSON shape and validation rules match Flux v2.9 so existing Flux manifests
// are accepted unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=source.extensions.fluxcd.io
package v1beta1
