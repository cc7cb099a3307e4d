package health

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/resourceversion"
)

// waiter is one Wait call: the objects it waits for, what the informers told
// it about them, and their statuses.
type waiter struct {
	checks *CustomChecks

	// Fixed once the wait starts.
	refs      []ObjectRef
	keys      []objectKey
	index     map[objectKey]int
	resources map[watchKey]*watchedResource

	// Written by informer goroutines, read by the waiting goroutine.
	mu      sync.Mutex
	objects map[objectKey]*tracked
	dirty   map[objectKey]struct{}
	signal  chan struct{} // capacity 1: "something changed"
	done    chan struct{} // closed when the wait ends

	// Owned by the waiting goroutine.
	statuses    []ObjectStatus
	everCurrent []bool
}

// tracked is the latest state the informer reported for one object.
type tracked struct {
	obj     *unstructured.Unstructured // nil when deleted or not seen
	final   *unstructured.Unstructured // the state a deletion event carried
	rv      string                     // of the latest event, deletions included
	deleted bool                       // the latest event was a deletion
	absent  bool                       // the synced cache did not hold it
}

// watch subscribes to the informers the objects need, starting them when no
// other wait runs them, and reads what the caches already hold.
func (w *waiter) watch(c *Cache) {
	byResource := map[watchKey][]objectKey{}
	for _, k := range w.keys {
		byResource[k.watch] = append(byResource[k.watch], k)
	}
	w.resources = map[watchKey]*watchedResource{}
	for wk, keys := range byResource {
		r := c.acquire(wk)
		w.resources[wk] = r
		r.subscribe(w, keys)
		if r.informer.HasSynced() {
			w.resolve(r, keys)
			continue
		}
		synced := r.informer.HasSyncedChecker().Done()
		go func() {
			select {
			case <-synced:
				w.resolve(r, keys)
			case <-w.done:
			}
		}()
	}
}

// resolve reads the objects from a synced cache: present ones are observed,
// missing ones are NotFound.
func (w *waiter) resolve(r *watchedResource, keys []objectKey) {
	for _, k := range keys {
		if obj := r.read(k); obj != nil {
			w.observe(k, obj, false)
		} else {
			w.markAbsent(k)
		}
	}
}

// close unsubscribes and releases the informers.
func (w *waiter) close(c *Cache) {
	close(w.done)
	byResource := map[watchKey][]objectKey{}
	for _, k := range w.keys {
		byResource[k.watch] = append(byResource[k.watch], k)
	}
	for wk, r := range w.resources {
		r.unsubscribe(w, byResource[wk])
		c.release(r)
	}
}

func (w *waiter) poke() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// observe records an event (or a cache read) for an object. Events and
// cache reads can arrive out of order, so a version older than the one
// already recorded is ignored.
func (w *waiter) observe(k objectKey, obj *unstructured.Unstructured, deleted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.objects[k]
	if t == nil {
		return
	}
	rv := obj.GetResourceVersion()
	if t.rv != "" && rv != "" {
		if cmp, err := resourceversion.CompareResourceVersion(rv, t.rv); err == nil && (cmp < 0 || (cmp == 0 && !deleted)) {
			return
		}
	}
	t.rv, t.deleted, t.absent = rv, deleted, false
	t.obj, t.final = obj, nil
	if deleted {
		t.obj, t.final = nil, obj
	}
	w.dirty[k] = struct{}{}
	w.poke()
}

// markAbsent records that the synced cache does not hold the object.
func (w *waiter) markAbsent(k objectKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.objects[k]
	if t == nil || t.obj != nil || t.deleted {
		return
	}
	t.absent = true
	w.dirty[k] = struct{}{}
	w.poke()
}

// fatalWatchError returns a *WatchError for the first informer that cannot
// list or watch.
func (w *waiter) fatalWatchError() error {
	for i, k := range w.keys {
		if err := w.resources[k.watch].fatalError(); err != nil {
			res := k.watch.gvr.GroupResource().String()
			return &WatchError{Ref: w.refs[i], Resource: res, Err: err}
		}
	}
	return nil
}

// evaluate recomputes the status of the objects that changed since the last
// call.
func (w *waiter) evaluate(ctx context.Context, onChange func(ObjectStatus), log logr.Logger) {
	w.mu.Lock()
	changed := make(map[int]tracked, len(w.dirty))
	for k := range w.dirty {
		changed[w.index[k]] = *w.objects[k]
	}
	clear(w.dirty)
	w.mu.Unlock()

	for i := range w.statuses {
		t, ok := changed[i]
		if !ok {
			continue
		}
		next := w.status(ctx, i, t)
		prev := w.statuses[i]
		w.statuses[i] = next
		if next.Status == Current {
			w.everCurrent[i] = true
		}
		if next.Result != prev.Result {
			log.V(1).Info("health status", "object", next.Ref.String(), "status", string(next.Status), "message", next.Message)
			if onChange != nil {
				onChange(next)
			}
		}
	}
}

func (w *waiter) status(ctx context.Context, i int, t tracked) ObjectStatus {
	ref := w.refs[i]
	s := ObjectStatus{Ref: ref, ResourceVersion: t.rv}
	switch {
	case t.obj != nil:
		if ref.ResourceVersion != "" {
			if cmp, err := resourceversion.CompareResourceVersion(t.rv, ref.ResourceVersion); err == nil && cmp < 0 {
				s.Result = inProgress("waiting for the watch to deliver resourceVersion %s (it holds %s)", ref.ResourceVersion, t.rv)
				return s
			}
		}
		s.Result = w.checks.Status(ctx, t.obj)
	case t.deleted && ref.Group == "batch" && ref.Kind == "Job":
		s.Result = w.deletedJob(ctx, i, t)
	case t.deleted:
		s.Result = Result{Status: NotFound, Message: "object was deleted"}
	case t.absent && ref.DoneWhenGone:
		s.Result = current("%s not found: removed once finished (ttlSecondsAfterFinished)", ref.Kind)
	case t.absent:
		s.Result = Result{Status: NotFound, Message: "object not found"}
	default:
		s.Result = Result{Status: Unknown, Message: "waiting for the watch to list it"}
	}
	return s
}

// deletedJob is the status of a deleted Job: a finished Job removed by its
// ttlSecondsAfterFinished keeps its outcome, read from the state the
// deletion event carried (the completion and the deletion may come in one
// batch of events) or from what this wait saw before.
func (w *waiter) deletedJob(ctx context.Context, i int, t tracked) Result {
	if t.final != nil {
		// The TTL controller deletes in the foreground: the last state is
		// marked for deletion, which would read as Terminating.
		last := t.final.DeepCopy()
		last.SetDeletionTimestamp(nil)
		switch r := w.checks.Status(ctx, last); r.Status {
		case Current:
			return current("Job completed and was deleted")
		case Failed:
			return failed("Job failed and was deleted: %s", r.Message)
		}
	}
	if w.everCurrent[i] {
		return current("Job completed and was deleted")
	}
	return Result{Status: NotFound, Message: "object was deleted"}
}

// failedAndPending splits the objects that are not Current.
func (w *waiter) failedAndPending() (failed, pending []ObjectStatus) {
	for _, s := range w.statuses {
		switch s.Status {
		case Current:
		case Failed:
			failed = append(failed, s)
		default:
			pending = append(pending, s)
		}
	}
	return failed, pending
}

func (w *waiter) report(d time.Duration) *Report {
	return &Report{Objects: append([]ObjectStatus(nil), w.statuses...), Duration: d}
}
