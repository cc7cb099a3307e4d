package reconcile

import (
	"context"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/driftless/driftless/api/meta"
)

// statusPatcher patches the status subresource with the difference from the
// last patched state. Its delayed write (patchLater) runs on a timer, so
// every write holds mu.
type statusPatcher[T meta.Object] struct {
	client client.Client

	mu      sync.Mutex
	base    T
	written bool // patch ran: a delayed write would be out of date
	done    bool // the pass ended: no delayed write any more
	timer   *time.Timer
}

func (s *statusPatcher[T]) patch(ctx context.Context, obj T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = true
	if err := s.client.Status().Patch(ctx, obj, client.MergeFrom(s.base)); err != nil {
		return err
	}
	s.base = obj.DeepCopyObject().(T)
	return nil
}

// patchLater writes obj as it is now after d, unless the pass has written
// its status or ended by then. The write goes out from a copy, and the
// copy as sent becomes the base: obj, which the steps go on changing,
// keeps its resourceVersion, so the next patch holds only what the steps
// changed since.
func (s *statusPatcher[T]) patchLater(ctx context.Context, obj T, d time.Duration) {
	snapshot := obj.DeepCopyObject().(T)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.done || s.written {
			return
		}
		sent := snapshot.DeepCopyObject().(T)
		if err := s.client.Status().Patch(ctx, snapshot, client.MergeFrom(s.base)); err != nil {
			log.FromContext(ctx).V(1).Info("could not write the reconciliation's start", "error", err.Error())
			return
		}
		s.base = sent
	})
}

// finish cancels a delayed write that has not gone out.
func (s *statusPatcher[T]) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	if s.timer != nil {
		s.timer.Stop()
	}
}
