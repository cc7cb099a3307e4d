package sourcekit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/log"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
)

// Housekeeping is the first step of a source kind's plan: it forgets an artifact
// whose file is gone (so it is built again), keeps its URL in step with the
// advertised address, and removes artifacts past their retention.
func (k *Kit[T, S]) Housekeeping(ctx context.Context, obj T, p *reconcile.Pass, _ *S) error {
	a := obj.GetArtifact()
	if a != nil && !k.Storage.Exists(a) {
		obj.SetArtifact(nil)
		p.Delete(sourcev1.ArtifactInStorageCondition)
		return p.Progress("NoArtifact", "building artifact: disappeared from storage")
	}
	if a == nil {
		p.Delete(sourcev1.ArtifactInStorageCondition)
		return nil
	}
	a.URL = k.Storage.URL(a.Path)
	if _, err := k.Storage.GarbageCollect(k.Kind, obj.GetNamespace(), obj.GetName(), a.Path); err != nil {
		log.FromContext(ctx).Error(err, "garbage collection of old artifacts failed")
	}
	return nil
}

// StorageFailed fails with StorageOperationFailed; a full disk says so plainly.
func StorageFailed(reason string, err error) error {
	if errors.Is(err, syscall.ENOSPC) && !strings.Contains(err.Error(), "no space left") {
		err = fmt.Errorf("%w (no space left on the storage volume)", err)
	}
	return reconcile.FailedOn(sourcev1.StorageOperationFailedCondition, reason, err)
}
