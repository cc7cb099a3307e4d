package web

import (
	"context"
	"reflect"
	"sort"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/kinds"
)

// Store is what the UI reads, and all it reads: the objects of a catalogue
// kind and single objects by key. It is shaped so that both planned
// implementations fit without an adapter: the controller's shared cache (a
// controller-runtime client.Reader: Get fills a typed object, List a typed
// list) and client-go informers running under the user's credentials (a
// lister per kind). Both are context-aware and hand out kinds.Object, so
// the pages never see unstructured data or a client.
//
// A Store only reads. Objects it returns or hands to subscribers may share
// memory with its cache (cachestore neither deep-copies a List nor a
// Change): callers read them and never change them, which every page does.
type Store interface {
	// List returns the objects of kind k in namespace ("" for every
	// namespace the viewer may see).
	List(ctx context.Context, k kinds.Kind, namespace string) ([]kinds.Object, error)
	// Get reads the object key names into obj, whose type says the kind
	// (a catalogue kind, or a Secret when a static kind's readiness checks
	// that one exists); a missing object is a NotFound error
	// (apierrors.IsNotFound). It has the signature of kinds.Getter so that
	// kinds.Kind.Derive can read through it.
	Get(ctx context.Context, key types.NamespacedName, obj kinds.Object) error
	// Subscribe calls fn with every later change to an object of a
	// catalogue kind (added, updated, deleted) until cancel is called. fn
	// runs on the store's own goroutine (an informer's event handler):
	// it must return quickly and never block, so a slow page cannot hold
	// up the others or the controller.
	Subscribe(fn func(Change)) (cancel func())
}

// Change is one object's new state, or its deletion (Object is then its
// last known state).
type Change struct {
	Kind    kinds.Kind
	Object  kinds.Object
	Deleted bool
}

// MemoryStore is a Store over a fixed set of objects, for tests and
// examples. It matches objects to kinds by their Go type.
type MemoryStore struct {
	mu   sync.RWMutex
	objs []kinds.Object
	subs map[int]func(Change)
	next int
}

// NewMemoryStore returns a store holding copies of objs.
func NewMemoryStore(objs ...kinds.Object) *MemoryStore {
	s := &MemoryStore{}
	for _, o := range objs {
		s.Add(o)
	}
	return s
}

// Add stores a copy of obj, replacing an object of the same type and key,
// and tells the subscribers.
func (s *MemoryStore) Add(obj kinds.Object) {
	c := obj.DeepCopyObject().(kinds.Object)
	s.mu.Lock()
	replaced := false
	for i, o := range s.objs {
		if sameObject(o, c) {
			s.objs[i], replaced = c, true
			break
		}
	}
	if !replaced {
		s.objs = append(s.objs, c)
	}
	subs := s.subscribers()
	s.mu.Unlock()
	s.notify(subs, c, false)
}

// Delete removes the object of obj's type and key, if there is one, and
// tells the subscribers.
func (s *MemoryStore) Delete(obj kinds.Object) {
	s.mu.Lock()
	var gone kinds.Object
	for i, o := range s.objs {
		if sameObject(o, obj) {
			gone = o
			s.objs = append(s.objs[:i], s.objs[i+1:]...)
			break
		}
	}
	subs := s.subscribers()
	s.mu.Unlock()
	if gone != nil {
		s.notify(subs, gone, true)
	}
}

// Subscribe implements Store.
func (s *MemoryStore) Subscribe(fn func(Change)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[int]func(Change){}
	}
	id := s.next
	s.next++
	s.subs[id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

// subscribers copies the subscriber list; the caller holds s.mu.
func (s *MemoryStore) subscribers() []func(Change) {
	out := make([]func(Change), 0, len(s.subs))
	for _, fn := range s.subs {
		out = append(out, fn)
	}
	return out
}

// notify tells subs of obj's change, outside the lock, each a copy.
func (s *MemoryStore) notify(subs []func(Change), obj kinds.Object, deleted bool) {
	k, ok := kinds.Of(obj)
	if !ok {
		return
	}
	for _, fn := range subs {
		fn(Change{Kind: k, Object: obj.DeepCopyObject().(kinds.Object), Deleted: deleted})
	}
}

// List implements Store, sorted by namespace and name.
func (s *MemoryStore) List(_ context.Context, k kinds.Kind, namespace string) ([]kinds.Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	want := reflect.TypeOf(k.New())
	var out []kinds.Object
	for _, o := range s.objs {
		if reflect.TypeOf(o) == want && (namespace == "" || o.GetNamespace() == namespace) {
			out = append(out, o.DeepCopyObject().(kinds.Object))
		}
	}
	SortObjects(out)
	return out, nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, key types.NamespacedName, obj kinds.Object) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	want := reflect.TypeOf(obj)
	for _, o := range s.objs {
		if reflect.TypeOf(o) == want && o.GetNamespace() == key.Namespace && o.GetName() == key.Name {
			reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(o.DeepCopyObject()).Elem())
			return nil
		}
	}
	return apierrors.NewNotFound(schema.GroupResource{Resource: want.Elem().Name()}, key.Name)
}

// SortObjects orders objs by namespace, then name: the order every Store's
// List returns.
func SortObjects(objs []kinds.Object) {
	sort.Slice(objs, func(i, j int) bool {
		if objs[i].GetNamespace() != objs[j].GetNamespace() {
			return objs[i].GetNamespace() < objs[j].GetNamespace()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}

func sameObject(a, b kinds.Object) bool {
	return reflect.TypeOf(a) == reflect.TypeOf(b) && a.GetNamespace() == b.GetNamespace() && a.GetName() == b.GetName()
}
