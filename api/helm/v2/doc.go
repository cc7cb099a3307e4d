// Package v2 holds the HelmRelease API of the helm.toolkit.fluxcd.io group:
// it tells the controller which chart to release with which values, how to
// install, upgrade, test, roll back and uninstall it, and how to detect and
// correct drift. The schema matches Flux v2.9, so Flux manifests are
// accepted unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=helm.toolkit.fluxcd.io
package v2
