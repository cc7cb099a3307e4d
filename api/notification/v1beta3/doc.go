// Package v1beta3 holds the notification.toolkit.fluxcd.io/v1beta3 API: the
// Provider (where notifications go) and the Alert (which events go there).
// Both are static objects without a status, as in Flux v2.9; field names,
// defaults and validation match Flux so its manifests are accepted unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=notification.toolkit.fluxcd.io
package v1beta3
