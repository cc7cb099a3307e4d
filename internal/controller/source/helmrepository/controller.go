// Package helmrepository reconciles HelmRepository objects. One of type
// default (an HTTP chart repository) is fetched: its index.yaml is read
// within the spec's timeout and the size limit, sorted, and stored as the
// artifact whose revision is the digest of the sorted index, for the
// HelmCharts of the repository to pick versions from; the parsed index also
// goes into the shared index cache, so that they do not parse it again. One
// of type oci is a data object, as in Flux 2.9: it holds the registry's
// address and credentials for HelmCharts, and the controller keeps no state
// for it.
package helmrepository

import (
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/sourcekit"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/reconcile"
)

// IndexLink is the stable link to the newest index artifact, status.url.
const IndexLink = "index.yaml"

// Reconciler holds what every reconciliation of a HelmRepository uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Secrets reads Secrets directly from the API server, uncached.
	Secrets client.Reader
	Storage *artifact.Storage
	// Cache, when set, receives every index fetched, for the HelmCharts of
	// the repository (chartrepo.Cache, keyed by CacheKey).
	Cache *chartrepo.Cache
	// MaxIndexSize bounds index.yaml (--helm-index-max-size); 0 means
	// chartrepo's default.
	MaxIndexSize int64
	// TempDir is where indexes are written before they are stored; ""
	// means the system default.
	TempDir string
}

// CacheKey is the key of a repository's index in the shared cache.
func CacheKey(namespace, name string) string { return namespace + "/" + name }

// Kind declares the HelmRepository reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*sourcev1.HelmRepository, Fetch] {
	kit := r.kit()
	return reconcile.Kind[*sourcev1.HelmRepository, Fetch]{
		Name: sourcev1.HelmRepositoryKind,
		New:  func() *sourcev1.HelmRepository { return &sourcev1.HelmRepository{} },
		Conditions: reconcile.ConditionSet{
			NegativePolarity: []string{
				sourcev1.FetchFailedCondition,
				sourcev1.StorageOperationFailedCondition,
				sourcev1.ArtifactOutdatedCondition,
			},
			Owned: []string{sourcev1.ArtifactInStorageCondition},
		},
		Plan: []reconcile.Step[*sourcev1.HelmRepository, Fetch]{
			{Name: "storage", Run: r.housekeeping},
			{Name: "fetch", Run: r.reconcileSource},
			{Name: "artifact", Run: kit.Archive},
			{Name: "record", Run: r.record},
			{Name: "gc", Run: kit.GC},
		},
		Finalize: r.finalize,
		Succeeded: func(obj *sourcev1.HelmRepository) (string, string) {
			return meta.SucceededReason, kit.Stored(obj.Status.Artifact.Revision)
		},
		Inert:       IsOCI,
		ResetStatus: func(obj *sourcev1.HelmRepository) { obj.Status = sourcev1.HelmRepositoryStatus{} },
	}
}

// IsOCI tells whether obj is of type oci: a data object for the HelmCharts
// that pull from the registry, with no artifact and no status.
func IsOCI(obj *sourcev1.HelmRepository) bool {
	return obj.Spec.Type == sourcev1.HelmRepositoryTypeOCI
}

// Fetch is what the steps of one pass hand to each other.
type Fetch struct {
	// Output is the index file for the source kit to store, or nothing
	// when Unchanged.
	sourcekit.Output
	index *chartrepo.Index
}

// kit is the storage side of HelmRepositories.
func (r *Reconciler) kit() *sourcekit.Kit[*sourcev1.HelmRepository, Fetch] {
	return &sourcekit.Kit[*sourcev1.HelmRepository, Fetch]{
		Kind:     sourcev1.HelmRepositoryKind,
		Storage:  r.Storage,
		TempDir:  r.TempDir,
		Output:   func(f *Fetch) *sourcekit.Output { return &f.Output },
		Recorded: func(obj *sourcev1.HelmRepository, _ *Fetch) { r.setURL(obj) },
	}
}

// setURL points status.url at the stable link to the newest index.
func (r *Reconciler) setURL(obj *sourcev1.HelmRepository) {
	if obj.Status.Artifact == nil {
		return
	}
	dir := artifact.ObjectDir(sourcev1.HelmRepositoryKind, obj.Namespace, obj.Name)
	obj.Status.URL = r.Storage.URL(dir + "/" + IndexLink)
}

// indexFile is the artifact's file name for an index digest.
func indexFile(digest string) string {
	return "index-" + digest[strings.IndexByte(digest, ':')+1:] + ".yaml"
}
