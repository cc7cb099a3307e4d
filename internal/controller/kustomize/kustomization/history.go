package kustomization

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
)

// maxHistory is how many snapshots status.history keeps, as Flux does.
const maxHistory = 5

// recordHistory adds a successful reconciliation of digest to the history:
// the snapshot with the same digest and status is updated, others are kept
// newest first, at most maxHistory.
func recordHistory(obj *kustomizev1.Kustomization, digest, revision string, now time.Time) {
	status := meta.ReconciliationSucceededReason
	t := metav1.NewTime(now)
	for i := range obj.Status.History {
		h := &obj.Status.History[i]
		if h.Digest == digest && h.LastReconciledStatus == status {
			h.LastReconciled = t
			h.TotalReconciliations++
			h.Metadata = map[string]string{"revision": revision}
			sortHistory(obj)
			return
		}
	}
	obj.Status.History = append(obj.Status.History, kustomizev1.Snapshot{
		Digest:               digest,
		FirstReconciled:      t,
		LastReconciled:       t,
		LastReconciledStatus: status,
		TotalReconciliations: 1,
		Metadata:             map[string]string{"revision": revision},
	})
	sortHistory(obj)
	if len(obj.Status.History) > maxHistory {
		obj.Status.History = obj.Status.History[:maxHistory]
	}
}

func sortHistory(obj *kustomizev1.Kustomization) {
	sort.SliceStable(obj.Status.History, func(i, j int) bool {
		return obj.Status.History[j].LastReconciled.Before(&obj.Status.History[i].LastReconciled)
	})
}

// errNewRevision cancels a health check when the source has moved on.
var errNewRevision = errors.New("new revision")

// inflightWait is a running health check and the revision it checks.
type inflightWait struct {
	revision string
	cancel   context.CancelCauseFunc
}

// trackWait registers the health check of obj at revision, so that a newer
// source revision can cancel it; call the returned func when it ends.
func (r *Reconciler) trackWait(ctx context.Context, obj *kustomizev1.Kustomization, revision string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	w := &inflightWait{revision: revision, cancel: cancel}
	r.inflight.Store(key, w)
	return ctx, func() {
		r.inflight.CompareAndDelete(key, w)
		cancel(nil)
	}
}

// cancelStaleWait cancels the health check of key when it waits on another
// revision than the one its source now has.
func (r *Reconciler) cancelStaleWait(key types.NamespacedName, revision string) {
	if v, ok := r.inflight.Load(key); ok {
		if w := v.(*inflightWait); w.revision != revision {
			w.cancel(fmt.Errorf("%w '%s' of the source", errNewRevision, revision))
		}
	}
}
