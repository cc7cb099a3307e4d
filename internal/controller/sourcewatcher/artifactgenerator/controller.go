// Package artifactgenerator reconciles ArtifactGenerators
// (source.extensions.fluxcd.io/v1beta1): it fetches the artifacts of the
// generator's sources, builds its outputs with internal/engine/generator,
// stores each as a tarball in the artifact storage and publishes it as an
// ExternalArtifact that Kustomizations and HelmReleases consume like any
// source. Generated ExternalArtifacts are kept as built (an edited or
// deleted one is restored) and removed with their files when their output
// goes from the spec or the pathPattern, or when the generator is deleted.
package artifactgenerator

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/generator"
	"github.com/driftless/driftless/internal/reconcile"
)

// Reasons of the Ready condition besides the generator engine's
// ValidationFailed and BuildFailed, as Flux's source-watcher words them.
const (
	SourceFetchFailedReason    = swv1.SourceFetchFailedReason
	ReconciliationFailedReason = "ReconciliationFailed"
	BuildFailedReason          = "BuildFailed"
)

// ManagedByLabel and ManagedByValue mark every generated ExternalArtifact.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "source-watcher"
)

// Reconciler holds what every reconciliation of an ArtifactGenerator uses.
type Reconciler struct {
	// Client reads sources and generated ExternalArtifacts through the
	// shared cache and writes ExternalArtifacts.
	Client client.Client
	// APIReader reads an ExternalArtifact uncached right before it is
	// written, so a write never starts from a stale copy.
	APIReader client.Reader
	// Storage is where outputs are archived, under externalartifact/.
	Storage *artifact.Storage
	// Unpacker downloads, verifies and unpacks the sources' artifacts.
	Unpacker *sourceref.Unpacker
	// NoCrossNamespaceRefs refuses sources in other namespaces.
	NoCrossNamespaceRefs bool
	// MaxExtractSize bounds what Extract unpacks from each tarball; 0 is
	// no limit.
	MaxExtractSize int64
	// TempDir is where outputs are built; "" means the system default.
	TempDir string

	// published remembers what the last passes wrote, so a pass whose
	// inputs did not change and whose ExternalArtifacts are as written
	// builds nothing.
	published memory
}

// Kind declares the ArtifactGenerator reconciliation for the skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*swv1.ArtifactGenerator, State] {
	return reconcile.Kind[*swv1.ArtifactGenerator, State]{
		Name:      swv1.ArtifactGeneratorKind,
		New:       func() *swv1.ArtifactGenerator { return &swv1.ArtifactGenerator{} },
		Finalizer: swv1.Finalizer,
		Plan: []reconcile.Step[*swv1.ArtifactGenerator, State]{
			{Name: "validate", Run: r.validate},
			{Name: "sources", Run: r.resolveSources},
			{Name: "check", Run: r.check},
			{Name: "fetch", Run: r.fetch},
			{Name: "build", Run: r.build},
			{Name: "publish", Run: r.publish},
			{Name: "prune", Run: r.prune},
		},
		Finalize: r.finalize,
		Succeeded: func(obj *swv1.ArtifactGenerator) (string, string) {
			return meta.SucceededReason, fmt.Sprintf("reconciliation succeeded, generated %d artifact(s)", len(obj.Status.Inventory))
		},
		Indexes: indexes(),
		Watches: r.watches(),
	}
}

// State is what the steps of one pass hand to each other.
type State struct {
	// sources are spec.sources with their objects, in spec order.
	sources []input
	// digest is the sources' digest, status.observedSourcesDigest.
	digest string
	// upToDate means nothing changed since the last pass that published:
	// the remaining steps have nothing to do.
	upToDate bool
	// results are the built outputs.
	results []generator.Result
	// written are the ExternalArtifacts this pass published, in order.
	written []*sourcev1.ExternalArtifact
}

// input is one spec.sources entry and the source it names.
type input struct {
	ref swv1.SourceReference
	src sourceref.Source
	dir string
}
