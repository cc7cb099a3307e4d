package imagerepository

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	imagev1 "github.com/driftless/driftless/api/image/v1"
)

// dueScans wakes a repository when its scan falls due after a pass that
// found it not due yet (after a restart, say). The skeleton requeues every
// successful pass a whole interval later, which would put the scan off by
// up to an interval; this timer brings it back for the rest of the
// interval only. One timer per repository at most, replaced by the next
// skip and stopped by a scan or the deletion, so memory stays flat.
type dueScans struct {
	events chan event.GenericEvent
	mu     sync.Mutex
	timers map[types.NamespacedName]*time.Timer
}

func newDueScans() *dueScans {
	return &dueScans{events: make(chan event.GenericEvent, 1024), timers: map[types.NamespacedName]*time.Timer{}}
}

// source is the Kind's source of the wake-ups.
func (d *dueScans) source() source.Source {
	return source.Channel(d.events, &handler.EnqueueRequestForObject{})
}

// after wakes the repository key once the duration has passed, replacing any earlier
// wake-up. Should the queue be full the wake-up is dropped: the skeleton's
// own requeue still comes, an interval later.
func (d *dueScans) after(key types.NamespacedName, after time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[key]; t != nil {
		t.Stop()
	}
	d.timers[key] = time.AfterFunc(after, func() {
		d.mu.Lock()
		delete(d.timers, key)
		d.mu.Unlock()
		obj := &imagev1.ImageRepository{}
		obj.Namespace, obj.Name = key.Namespace, key.Name
		select {
		case d.events <- event.GenericEvent{Object: obj}:
		default:
		}
	})
}

// cancel forgets the wake-up of key, if any.
func (d *dueScans) cancel(key types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[key]; t != nil {
		t.Stop()
		delete(d.timers, key)
	}
}
