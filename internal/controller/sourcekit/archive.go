package sourcekit

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/ignore"
	"github.com/driftless/driftless/internal/reconcile"
)

// Archive archives the fetched tree into storage, without what
// .sourceignore and the spec's ignore rules exclude, or stores the fetched
// Blob as it is, unless the stored artifact is already the one upstream has;
// then it points the Output's Link at the new artifact. It takes the
// object's storage lock for the rest of the plan, so Record and GC run
// under it too.
func (k *Kit[T, S]) Archive(_ context.Context, obj T, p *reconcile.Pass, st *S) error {
	out := k.Output(st)
	if out.Unchanged {
		return nil
	}
	unlock, err := k.Storage.Lock(k.Kind, obj.GetNamespace(), obj.GetName())
	if err != nil {
		return StorageFailed(sourcev1.AcquireLockFailedReason, fmt.Errorf("failed to acquire lock for artifact: %w", err))
	}
	p.Defer(unlock)

	rel := k.Storage.ArtifactPath(k.Kind, obj.GetNamespace(), obj.GetName(), out.File)
	var a *meta.Artifact
	if out.Blob != "" {
		a, err = k.copyBlob(out.Blob, rel)
	} else {
		a, err = k.archiveDir(out, rel)
	}
	if err != nil {
		return err
	}
	if out.Link != "" {
		if _, err := k.Storage.Symlink(a.Path, out.Link); err != nil {
			return StorageFailed(sourcev1.SymlinkUpdateFailedReason, fmt.Errorf("failed to update symlink: %w", err))
		}
	}
	out.archived = a
	return nil
}

// archiveDir archives out.Dir as rel.
func (k *Kit[T, S]) archiveDir(out *Output, rel string) (*meta.Artifact, error) {
	rules, err := ignore.Load(out.Dir, out.Ignore)
	if err != nil {
		return nil, StorageFailed(sourcev1.ReadOperationFailedReason, fmt.Errorf("failed to load ignore rules: %w", err))
	}
	a, err := k.Storage.Archive(out.Dir, rel, rules)
	if errors.Is(err, artifact.ErrTooLarge) {
		return nil, StorageFailed(sourcev1.ArchiveOperationFailedReason, fmt.Errorf(
			"failed to archive artifact: %w; exclude what is not needed with spec.ignore or a .sourceignore file, or raise the controller's limit", err))
	}
	if err != nil {
		return nil, StorageFailed(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to archive artifact: %w", err))
	}
	return a, nil
}

// copyBlob stores the file blob verbatim as rel.
func (k *Kit[T, S]) copyBlob(blob, rel string) (*meta.Artifact, error) {
	f, err := os.Open(blob)
	if err != nil {
		return nil, StorageFailed(sourcev1.ReadOperationFailedReason, fmt.Errorf("failed to open fetched file: %w", err))
	}
	defer f.Close()
	a, err := k.Storage.Copy(f, rel)
	if errors.Is(err, artifact.ErrTooLarge) {
		return nil, StorageFailed(sourcev1.ArchiveOperationFailedReason, fmt.Errorf(
			"failed to store artifact: %w; raise the controller's --artifact-max-size", err))
	}
	if err != nil {
		return nil, StorageFailed(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to store artifact: %w", err))
	}
	return a, nil
}

// Record records the archived artifact in status with its revision (or,
// when nothing changed upstream, confirms the stored one) and says so in
// ArtifactInStorage.
func (k *Kit[T, S]) Record(_ context.Context, obj T, p *reconcile.Pass, st *S) error {
	out := k.Output(st)
	if out.Unchanged {
		p.Delete(sourcev1.ArtifactOutdatedCondition)
		p.MarkTrue(sourcev1.ArtifactInStorageCondition, meta.SucceededReason, k.Stored(out.Revision))
		return nil
	}
	a := out.archived
	a.Revision = out.Revision
	if old := obj.GetArtifact(); old != nil && old.Digest == a.Digest && old.Revision == a.Revision {
		a.LastUpdateTime = old.LastUpdateTime // same content: consumers have nothing new
	}
	obj.SetArtifact(a)
	if k.Recorded != nil {
		k.Recorded(obj, st)
	}

	p.Delete(sourcev1.StorageOperationFailedCondition)
	p.Delete(sourcev1.ArtifactOutdatedCondition)
	p.MarkTrue(sourcev1.ArtifactInStorageCondition, meta.SucceededReason, k.Stored(a.Revision))
	p.EventMetadata[meta.SourceRevisionEventKey] = a.Revision
	return nil
}

// GC removes the object's older artifacts past their retention once a new
// one is recorded; a failure is noted in the pass's events, not fatal.
func (k *Kit[T, S]) GC(_ context.Context, obj T, p *reconcile.Pass, st *S) error {
	out := k.Output(st)
	if out.Unchanged || out.archived == nil {
		return nil
	}
	if _, err := k.Storage.GarbageCollect(k.Kind, obj.GetNamespace(), obj.GetName(), out.archived.Path); err != nil {
		p.EventMetadata[meta.GarbageCollectionEventKey] = err.Error()
	}
	return nil
}
