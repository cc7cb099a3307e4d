package reconcile

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
)

// readyMemory is the Ready condition a reconciler last wrote for each
// object, by namespace, name and UID: newer than the shared cache's copy until the cache sees
// that write. A restart, or another replica taking the lead, starts empty
// and falls back to the object's own status.
type readyMemory struct {
	m sync.Map // objectKey → writtenReady
}

// objectKey tells one object from another and from a new one of the
// same name.
type objectKey struct {
	namespace, name string
	uid             types.UID
}

func keyOf(obj meta.Object) objectKey {
	return objectKey{obj.GetNamespace(), obj.GetName(), obj.GetUID()}
}

// writtenReady is what a pass wrote: whether Ready was True, and its message.
type writtenReady struct {
	ready   bool
	message string
}

func (m *readyMemory) get(obj meta.Object) (writtenReady, bool) {
	v, ok := m.m.Load(keyOf(obj))
	if !ok {
		return writtenReady{}, false
	}
	return v.(writtenReady), true
}

// put keeps obj's Ready as its pass just wrote it.
func (m *readyMemory) put(obj meta.Object) {
	w := writtenReady{ready: IsTrue(obj, meta.ReadyCondition)}
	if c := Get(obj, meta.ReadyCondition); c != nil {
		w.message = c.Message
	}
	m.m.Store(keyOf(obj), w)
}

// forget drops obj (it is going, or keeps no state).
func (m *readyMemory) forget(obj meta.Object) { m.m.Delete(keyOf(obj)) }
