// Package v1 holds the notification.toolkit.fluxcd.io/v1 API: the Receiver,
// an incoming webhook that asks Driftless to reconcile a set of objects now.
// Field names, defaults and validation match Flux v2.9, so Flux manifests are
// accepted unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=notification.toolkit.fluxcd.io
package v1
