// Package ocirepository reconciles OCIRepository objects: it resolves the
// reference (digest, semver range, tag) in a container registry to one
// manifest digest, verifies its cosign signature, pulls the selected layer
// and publishes it in the shared artifact storage, extracted and archived
// as a deterministic tarball or copied as it is.
package ocirepository

import (
	"fmt"
	"math"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/registryauth"
	"github.com/driftless/driftless/internal/controller/sourcekit"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// LatestLink is the stable link to the newest artifact, status.url.
const LatestLink = "latest.tar.gz"

// Reconciler holds what every reconciliation of an OCIRepository uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Secrets reads Secrets and ServiceAccounts directly from the API
	// server, so neither is cached.
	Secrets client.Reader
	Storage *artifact.Storage
	// MaxSize bounds a layer and what it expands to, in bytes
	// (--artifact-max-size); 0 means no limit.
	MaxSize int64
	// TempDir is where layers are pulled to; "" means the system default.
	TempDir string
}

// Kind declares the OCIRepository reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*sourcev1.OCIRepository, Pull] {
	kit := r.kit()
	return reconcile.Kind[*sourcev1.OCIRepository, Pull]{
		Name: sourcev1.OCIRepositoryKind,
		New:  func() *sourcev1.OCIRepository { return &sourcev1.OCIRepository{} },
		Conditions: reconcile.ConditionSet{
			NegativePolarity: []string{
				sourcev1.FetchFailedCondition,
				sourcev1.StorageOperationFailedCondition,
				sourcev1.ArtifactOutdatedCondition,
			},
			Owned: []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
		},
		Plan: []reconcile.Step[*sourcev1.OCIRepository, Pull]{
			{Name: "storage", Run: r.housekeeping},
			{Name: "fetch", Run: r.reconcileSource},
			{Name: "verify", Run: r.reconcileVerification},
			{Name: "pull", Run: r.reconcilePull},
			{Name: "artifact", Run: kit.Archive},
			{Name: "record", Run: kit.Record},
			{Name: "gc", Run: kit.GC},
		},
		Finalize: kit.Finalize,
		Succeeded: func(obj *sourcev1.OCIRepository) (string, string) {
			return meta.SucceededReason, fmt.Sprintf(storedFormat, obj.Status.Artifact.Revision)
		},
	}
}

// storedFormat is Flux's Ready and ArtifactInStorage message of an
// OCIRepository: it says digest where other kinds say revision.
const storedFormat = "stored artifact for digest '%s'"

// Pull is what the steps of one pass hand to each other.
type Pull struct {
	// Output is the layer for the source kit to store: a tree to archive
	// (extract) or a file to copy; nothing when Unchanged.
	sourcekit.Output
	repo     oci.Repository
	client   *oci.Client
	creds    *registryauth.Credentials
	resolved oci.Resolved
	// annotations are the pulled manifest's, the artifact's metadata.
	annotations map[string]string
}

// kit is the storage side of OCIRepositories.
func (r *Reconciler) kit() *sourcekit.Kit[*sourcev1.OCIRepository, Pull] {
	return &sourcekit.Kit[*sourcev1.OCIRepository, Pull]{
		Kind:         sourcev1.OCIRepositoryKind,
		Storage:      r.Storage,
		TempDir:      r.TempDir,
		Output:       func(p *Pull) *sourcekit.Output { return &p.Output },
		Recorded:     r.recorded,
		StoredFormat: storedFormat,
	}
}

// recorded notes what the new artifact was built from and its metadata.
func (r *Reconciler) recorded(obj *sourcev1.OCIRepository, p *Pull) {
	if len(p.annotations) > 0 {
		obj.Status.Artifact.Metadata = p.annotations
	}
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedLayerSelector = obj.Spec.LayerSelector.DeepCopy()
	r.setURL(obj)
}

// setURL points status.url at the stable link to the newest artifact.
func (r *Reconciler) setURL(obj *sourcev1.OCIRepository) {
	if obj.Status.Artifact == nil {
		return
	}
	dir := artifact.ObjectDir(sourcev1.OCIRepositoryKind, obj.Namespace, obj.Name)
	obj.Status.URL = r.Storage.URL(dir + "/" + LatestLink)
}

// maxSizes are the pull bounds from --artifact-max-size: the layer and
// what it expands to.
func (r *Reconciler) maxSizes() (layer, extracted int64) {
	if r.MaxSize <= 0 {
		return math.MaxInt64, math.MaxInt64
	}
	return r.MaxSize, r.MaxSize
}
