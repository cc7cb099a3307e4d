// Package sourcekit holds what every source kind does with its artifact
// once fetched, whatever the kind: storage housekeeping, the deterministic
// archive, its record in status, garbage collection of older artifacts,
// temporary directories and the finalizer's clean-up. A source kind writes
// only its fetch step and hands the kit an Output; its plan then reads
//
//	kit.Housekeeping, <fetch...>, kit.Archive, kit.Record, kit.GC
//
// All of it is written against internal/engine/artifact's Storage, under the
// per-object lock, and sets only the storage conditions (ArtifactInStorage,
// ArtifactOutdated, StorageOperationFailed).
package sourcekit

import (
	"context"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/reconcile"
)

// Source is a source kind's object as the kit sees it: one that records an
// artifact in its status.
type Source interface {
	client.Object
	GetArtifact() *meta.Artifact
	SetArtifact(*meta.Artifact)
}

// Output is what a kind's fetch step leaves for the kit's steps: the tree to
// archive (or a file to store as it is) and how to name it, or that nothing
// changed upstream.
type Output struct {
	// Dir holds the tree to archive (made with Kit.NewTempDir).
	Dir string
	// Blob, when set, is a file stored verbatim as the artifact instead of
	// an archive of Dir (an OCI layer pulled with operation copy); the
	// ignore rules do not apply to it.
	Blob string
	// File is the artifact's file name in the object's storage directory.
	File string
	// Link, when set, names a stable symbolic link in the object's storage
	// directory (latest.tar.gz) that Archive points at each new artifact.
	Link string
	// Ignore is the spec's extra ignore rules, on top of .sourceignore.
	Ignore *string
	// Revision is the artifact's revision.
	Revision string
	// Unchanged means upstream still has the stored artifact's revision and
	// nothing in the spec asks for a new artifact: there is nothing to archive.
	Unchanged bool

	// archived is the artifact Archive stored, for Record and GC.
	archived *meta.Artifact
}

// Kit is the storage side of one source kind. T is the kind's API type, S
// its per-pass state, which holds an Output.
type Kit[T Source, S any] struct {
	// Kind names the kind: the storage directory and the temporary
	// directories are filed under it.
	Kind    string
	Storage *artifact.Storage
	// TempDir is where temporary directories are made; "" means the
	// system default.
	TempDir string
	// Output finds the Output in the pass's state.
	Output func(*S) *Output
	// Recorded, when set, records the kind's own status fields (what the
	// artifact was built from) once Record stored a new artifact.
	Recorded func(obj T, st *S)
	// StoredFormat is the ArtifactInStorage message, with the revision for
	// its one verb; DefaultStoredFormat when empty.
	StoredFormat string
}

// DefaultStoredFormat is the ArtifactInStorage message of most source kinds;
// OCIRepository says "for digest" instead, as Flux does.
const DefaultStoredFormat = "stored artifact for revision '%s'"

// Stored is the ArtifactInStorage message for revision.
func (k *Kit[T, S]) Stored(revision string) string {
	format := k.StoredFormat
	if format == "" {
		format = DefaultStoredFormat
	}
	return fmt.Sprintf(format, revision)
}

// NewTempDir makes a directory for one pass, removed when the plan ends.
func (k *Kit[T, S]) NewTempDir(obj T, p *reconcile.Pass) (string, error) {
	dir, err := os.MkdirTemp(k.TempDir, fmt.Sprintf("%s-%s-%s-", strings.ToLower(k.Kind), obj.GetNamespace(), obj.GetName()))
	if err != nil {
		return "", fmt.Errorf("create temporary directory: %w", err)
	}
	p.Defer(func() { _ = os.RemoveAll(dir) })
	return dir, nil
}

// Finalize removes the object's artifacts from storage.
func (k *Kit[T, S]) Finalize(_ context.Context, obj T, _ *reconcile.Pass) error {
	unlock, err := k.Storage.Lock(k.Kind, obj.GetNamespace(), obj.GetName())
	if err != nil {
		return err
	}
	defer unlock()
	return k.Storage.RemoveAll(k.Kind, obj.GetNamespace(), obj.GetName())
}
