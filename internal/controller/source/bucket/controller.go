// Package bucket reconciles Bucket objects: it lists a bucket (or a prefix
// of it) on an S3-compatible server, computes Flux's revision from the
// keys and ETags, and, when that revision is new, downloads the objects
// (only the changed ones when it can) and publishes them in the shared
// artifact storage as a deterministic tarball.
package bucket

import (
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/sourcekit"
	"github.com/driftless/driftless/internal/engine/artifact"
	s3 "github.com/driftless/driftless/internal/engine/bucket"
	"github.com/driftless/driftless/internal/reconcile"
)

// LatestLink is the stable link to the newest artifact, status.url.
const LatestLink = "latest.tar.gz"

// DefaultTimeout bounds the listing and the downloads when spec.timeout is
// not set, as Flux's default.
const DefaultTimeout = 60 * time.Second

// Reconciler holds what every reconciliation of a Bucket uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Secrets reads Secrets directly from the API server, uncached.
	Secrets client.Reader
	Storage *artifact.Storage
	// MaxSize and MaxFiles are --artifact-max-size and
	// --artifact-max-files: a listing past either is refused before any
	// download. 0 means no limit.
	MaxSize  int64
	MaxFiles int
	// TempDir is where objects are downloaded; "" means the system default.
	TempDir string

	// fetched remembers each Bucket's last fetch, for incremental fetches
	// and the new-artifact event.
	fetched memory
}

// Kind declares the Bucket reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*sourcev1.Bucket, Fetch] {
	kit := r.kit()
	return reconcile.Kind[*sourcev1.Bucket, Fetch]{
		Name: sourcev1.BucketKind,
		New:  func() *sourcev1.Bucket { return &sourcev1.Bucket{} },
		Conditions: reconcile.ConditionSet{
			NegativePolarity: []string{
				sourcev1.FetchFailedCondition,
				sourcev1.StorageOperationFailedCondition,
				sourcev1.ArtifactOutdatedCondition,
			},
			Owned: []string{sourcev1.ArtifactInStorageCondition},
		},
		Plan: []reconcile.Step[*sourcev1.Bucket, Fetch]{
			{Name: "storage", Run: r.housekeeping},
			{Name: "index", Run: r.reconcileSource},
			{Name: "download", Run: r.download},
			{Name: "artifact", Run: kit.Archive},
			{Name: "record", Run: kit.Record},
			{Name: "remember", Run: r.remember},
			{Name: "gc", Run: kit.GC},
		},
		Finalize: r.finalize,
		Succeeded: func(obj *sourcev1.Bucket) (string, string) {
			return meta.SucceededReason, kit.Stored(obj.Status.Artifact.Revision)
		},
		SucceededEvent: func(obj *sourcev1.Bucket, _ time.Duration) (string, map[string]string) {
			n, ok := r.fetched.files(obj)
			if !ok {
				return kit.Stored(obj.Status.Artifact.Revision), nil
			}
			return fmt.Sprintf("stored artifact with %d fetched files from '%s' bucket", n, obj.Spec.BucketName), nil
		},
	}
}

// Fetch is what the steps of one pass hand to each other.
type Fetch struct {
	// Output is the downloaded tree for the source kit to archive, or
	// Unchanged when the listing gives the stored revision.
	sourcekit.Output
	client *s3.Client
	// listed is the listing's index; fetched what was downloaded (with
	// each GET's ETag), whose revision the artifact takes.
	listed, fetched s3.Index
	stats           s3.FetchStats
	// secret names the Secret the credentials came from, for messages.
	secret string
}

// kit is the storage side of Buckets.
func (r *Reconciler) kit() *sourcekit.Kit[*sourcev1.Bucket, Fetch] {
	return &sourcekit.Kit[*sourcev1.Bucket, Fetch]{
		Kind:     sourcev1.BucketKind,
		Storage:  r.Storage,
		TempDir:  r.TempDir,
		Output:   func(f *Fetch) *sourcekit.Output { return &f.Output },
		Recorded: r.recorded,
	}
}

// recorded notes the ignore rules the new artifact was built with.
func (r *Reconciler) recorded(obj *sourcev1.Bucket, _ *Fetch) {
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	r.setURL(obj)
}

// setURL points status.url at the stable link to the newest artifact.
func (r *Reconciler) setURL(obj *sourcev1.Bucket) {
	if obj.Status.Artifact == nil {
		return
	}
	dir := artifact.ObjectDir(sourcev1.BucketKind, obj.Namespace, obj.Name)
	obj.Status.URL = r.Storage.URL(dir + "/" + LatestLink)
}
