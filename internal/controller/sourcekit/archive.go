package sourcekit

import (
	"context"
	"errors"
	"fmt"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/ignore"
	"github.com/driftless/driftless/internal/reconcile"
)

// Archive archives the fetched tree into storage, without what
// .sourceignore and the spec's ignore rules exclude, unless the stored
// artifact is already the one upstream has. It takes the object's storage
// lock for the rest of the plan, so Record and GC run under it too.
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

	rules, err := ignore.Load(out.Dir, out.Ignore)
	if err != nil {
		return StorageFailed(sourcev1.ReadOperationFailedReason, fmt.Errorf("failed to load ignore rules: %w", err))
	}
	rel := k.Storage.ArtifactPath(k.Kind, obj.GetNamespace(), obj.GetName(), out.File)
	a, err := k.Storage.Archive(out.Dir, rel, rules)
	if errors.Is(err, artifact.ErrTooLarge) {
		return StorageFailed(sourcev1.ArchiveOperationFailedReason, fmt.Errorf(
			"failed to archive artifact: %w; exclude large files with spec.ignore or a .sourceignore file, or raise the controller's --artifact-max-size", err))
	}
	if err != nil {
		return StorageFailed(sourcev1.ArchiveOperationFailedReason, fmt.Errorf("failed to archive artifact: %w", err))
	}
	out.archived = a
	return nil
}

// Record records the archived artifact in status with its revision (or,
// when nothing changed upstream, confirms the stored one) and says so in
// ArtifactInStorage.
func (k *Kit[T, S]) Record(_ context.Context, obj T, p *reconcile.Pass, st *S) error {
	out := k.Output(st)
	if out.Unchanged {
		p.Delete(sourcev1.ArtifactOutdatedCondition)
		p.MarkTrue(sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
			fmt.Sprintf("stored artifact for revision '%s'", out.Revision))
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
	p.MarkTrue(sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", a.Revision))
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
