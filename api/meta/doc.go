// Package meta holds the types that every Driftless API group shares: condition
// types and reasons, the Artifact a source publishes, object references, the
// kustomize helper types, the annotations of the reconcile protocol, and the
// object accessor (Object, Conditioned) every kind implements, which the
// reconcile skeleton and the command line share. The JSON names and validation
// rules match Flux v2.9's apis/meta, apis/acl and apis/kustomize packages, so
// manifests written for Flux are accepted as-is.
//
// +kubebuilder:object:generate=true
package meta
