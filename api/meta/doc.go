// Package meta holds the types that every Driftless API group shares: condition
// types and reasons, the Artifact a source publishes, object references, the
// kustomize helper types, and the annotations of the reconcile protocol. The
// JSON names and validation rules match Flux v2.9's apis/meta, apis/acl and
// apis/kustomize packages, so manifests written for Flux are accepted as-is.
//
// +kubebuilder:object:generate=true
package meta
