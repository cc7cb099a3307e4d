package health

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Cache holds the informers waits read from: one per resource and namespace
// (or cluster scope), started by the first wait that needs it, shared by
// every wait that needs it at the same time, and stopped when the last of
// them ends. A Cache belongs to one client, so to one identity: a controller
// that impersonates service accounts keeps one Cache per identity.
type Cache struct {
	client dynamic.Interface
	log    logr.Logger
	opts   CacheOptions

	mu        sync.Mutex
	resources map[watchKey]*watchedResource
	started   int
}

// CacheStats describe a Cache at one moment.
type CacheStats struct {
	// Informers running now.
	Informers int
	// Subscriptions is the number of (wait, informer) pairs now: the
	// reference count summed over the informers.
	Subscriptions int
	// Started counts the informers started since the Cache was made.
	Started int
}

// CacheOptions are the optional parts of a Cache.
type CacheOptions struct {
	// OwnedSelector, when set, is a label selector that every object of an
	// ObjectRef with Owned set carries (an applier's ownership label). Such
	// objects are read from one informer per resource at cluster scope,
	// filtered by the selector, instead of one per resource and namespace:
	// a thousand Kustomizations, each in its own namespace, then share four
	// watches instead of opening four thousand. The client must be allowed
	// to list and watch those resources in every namespace.
	OwnedSelector string
	// IdleTimeout keeps a shared (OwnedSelector) informer running this long
	// after its last wait ends, so that the next waits find it synced
	// instead of listing again; 0 stops it at once.
	IdleTimeout time.Duration
}

// NewCache returns a Cache that watches with client, one informer per
// resource and namespace.
func NewCache(client dynamic.Interface, log logr.Logger) *Cache {
	return NewCacheWithOptions(client, log, CacheOptions{})
}

// NewCacheWithOptions returns a Cache that watches with client.
func NewCacheWithOptions(client dynamic.Interface, log logr.Logger, opts CacheOptions) *Cache {
	return &Cache{client: client, log: log, opts: opts, resources: map[watchKey]*watchedResource{}}
}

// Cached returns the object from the shared (OwnedSelector) informer of
// resource, if one is running, has synced and holds it, without its
// managed fields. The object is the cache's own: callers must not change
// it.
func (c *Cache) Cached(resource schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, bool) {
	if c.opts.OwnedSelector == "" {
		return nil, false
	}
	c.mu.Lock()
	r, ok := c.resources[watchKey{gvr: resource, selector: c.opts.OwnedSelector}]
	c.mu.Unlock()
	if !ok || !r.informer.HasSynced() {
		return nil, false
	}
	obj := r.read(objectKey{watch: r.key, namespace: namespace, name: name})
	return obj, obj != nil
}

// Stats reports the informers running and the waits using them.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CacheStats{Informers: len(c.resources), Started: c.started}
	for _, r := range c.resources {
		s.Subscriptions += r.refs
	}
	return s
}

// watchKey is what an informer watches: a resource in one namespace, or at
// cluster scope when namespace is empty, optionally only the objects a
// label selector matches.
type watchKey struct {
	gvr       schema.GroupVersionResource
	namespace string
	selector  string
}

// objectKey names an object within a watchKey.
type objectKey struct {
	watch     watchKey
	namespace string
	name      string
}

// watchedResource is one running informer and the waits subscribed to its
// objects.
type watchedResource struct {
	key      watchKey
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	refs     int // guarded by Cache.mu

	idleGen int // guarded by Cache.mu: bumped on every release to zero

	mu    sync.Mutex
	subs  map[string]map[*waiter]struct{} // "namespace/name" → waits
	users map[*waiter]int                 // waits using this informer, for errors
	fatal error                           // a list or watch error retrying will not fix
}

// acquire returns the running informer for key, starting it if needed, with
// one more reference.
func (c *Cache) acquire(key watchKey) *watchedResource {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.resources[key]; ok {
		r.refs++
		return r
	}
	r := c.start(key)
	r.refs = 1
	c.resources[key] = r
	c.started++
	return r
}

// release drops a reference and stops the informer when it was the last.
func (c *Cache) release(r *watchedResource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.refs--
	if r.refs > 0 {
		return
	}
	if r.key.selector != "" && c.opts.IdleTimeout > 0 && r.fatalError() == nil {
		r.idleGen++
		gen := r.idleGen
		time.AfterFunc(c.opts.IdleTimeout, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if r.refs == 0 && r.idleGen == gen {
				c.stopLocked(r)
			}
		})
		return
	}
	c.stopLocked(r)
}

// stopLocked stops an informer nobody uses; c.mu is held.
func (c *Cache) stopLocked(r *watchedResource) {
	if c.resources[r.key] == r {
		delete(c.resources, r.key)
	}
	r.stop()
	c.log.V(1).Info("stopped informer", "resource", r.key.gvr.String(), "namespace", r.key.namespace, "selector", r.key.selector)
}

func (c *Cache) start(key watchKey) *watchedResource {
	res := c.client.Resource(key.gvr).Namespace(key.namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = key.selector
			return res.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = key.selector
			return res.Watch(ctx, opts)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, 0, cache.Indexers{})
	r := &watchedResource{
		key:      key,
		informer: inf,
		subs:     map[string]map[*waiter]struct{}{},
		users:    map[*waiter]int{},
	}
	// Errors from these setters only come from a started informer.
	_ = inf.SetTransform(dropManagedFields)
	_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, rf *cache.Reflector, err error) {
		cache.DefaultWatchErrorHandler(ctx, rf, err)
		r.watchFailed(err)
	})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, _ bool) { r.dispatch(obj, false) },
		UpdateFunc: func(_, obj any) { r.dispatch(obj, false) },
		DeleteFunc: func(obj any) { r.dispatch(obj, true) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go inf.RunWithContext(ctx)
	c.log.V(1).Info("started informer", "resource", key.gvr.String(), "namespace", key.namespace, "selector", key.selector)
	return r
}

// dropManagedFields keeps the cache small: readiness never reads them.
func dropManagedFields(obj any) (any, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		u.SetManagedFields(nil)
	}
	return obj, nil
}

// dispatch hands an event to the waits subscribed to its object.
func (r *watchedResource) dispatch(obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	name := u.GetNamespace() + "/" + u.GetName()
	r.mu.Lock()
	subs := make([]*waiter, 0, len(r.subs[name]))
	for w := range r.subs[name] {
		subs = append(subs, w)
	}
	r.mu.Unlock()
	key := objectKey{watch: r.key, namespace: u.GetNamespace(), name: u.GetName()}
	for _, w := range subs {
		w.observe(key, u, deleted)
	}
}

// subscribe routes the events of the named objects to w.
func (r *watchedResource) subscribe(w *waiter, keys []objectKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users[w]++
	for _, k := range keys {
		name := k.namespace + "/" + k.name
		if r.subs[name] == nil {
			r.subs[name] = map[*waiter]struct{}{}
		}
		r.subs[name][w] = struct{}{}
	}
}

// unsubscribe stops routing events to w.
func (r *watchedResource) unsubscribe(w *waiter, keys []objectKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, w)
	for _, k := range keys {
		name := k.namespace + "/" + k.name
		delete(r.subs[name], w)
		if len(r.subs[name]) == 0 {
			delete(r.subs, name)
		}
	}
}

// read returns the cached object, or nil.
func (r *watchedResource) read(k objectKey) *unstructured.Unstructured {
	storeKey := k.name
	if k.namespace != "" {
		storeKey = k.namespace + "/" + k.name
	}
	obj, ok, err := r.informer.GetStore().GetByKey(storeKey)
	if err != nil || !ok {
		return nil
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

// watchFailed keeps an error that retrying will not fix and wakes the waits.
func (r *watchedResource) watchFailed(err error) {
	if !fatalWatchError(err) {
		return
	}
	r.mu.Lock()
	r.fatal = err
	users := make([]*waiter, 0, len(r.users))
	for w := range r.users {
		users = append(users, w)
	}
	r.mu.Unlock()
	for _, w := range users {
		w.poke()
	}
}

func (r *watchedResource) fatalError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}
