package v1

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftless/driftless/api/meta"
)

// Source is what consumers of a source need to know, whatever its kind:
// where its current Artifact is and how often it is refreshed. Every kind in
// this package implements it.
//
// +kubebuilder:object:generate=false
type Source interface {
	runtime.Object

	// GetArtifact returns the Artifact recorded in the status, or nil when
	// the source has not produced one yet.
	GetArtifact() *meta.Artifact

	// GetRequeueAfter returns how long to wait before the source is
	// reconciled again.
	GetRequeueAfter() time.Duration
}

// Compile-time checks that every kind implements Source.
var (
	_ Source = &GitRepository{}
	_ Source = &OCIRepository{}
	_ Source = &HelmRepository{}
	_ Source = &HelmChart{}
	_ Source = &Bucket{}
	_ Source = &ExternalArtifact{}
)
