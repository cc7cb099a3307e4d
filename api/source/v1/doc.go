// Package v1 holds the Go types of the source.toolkit.fluxcd.io/v1 API group:
// GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket and
// ExternalArtifact. Each source kind turns an upstream location into an
// Artifact that other controllers download; the JSON shape and validation
// rules match Flux v2.9 so existing Flux manifests are accepted unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=source.toolkit.fluxcd.io
package v1
