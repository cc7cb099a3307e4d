// Package v1 holds the image.toolkit.fluxcd.io/v1 API: ImageRepository (scan
// a registry for tags), ImagePolicy (pick the latest tag) and
// ImageUpdateAutomation (write the picked tags back to Git). Field names,
// defaults and validation match Flux v2.9, so Flux manifests are accepted
// unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=image.toolkit.fluxcd.io
package v1
