// Package v1 holds the Kustomization API of the kustomize.toolkit.fluxcd.io
// group: it tells the controller which source artifact to build with
// kustomize, how to transform and decrypt the result, and how to apply,
// health-check and prune it. The schema matches Flux v2.9, so Flux manifests
// are accepted unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=kustomize.toolkit.fluxcd.io
package v1
