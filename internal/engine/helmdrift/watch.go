package helmdrift

import (
	"context"
	"reflect"
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

// Resource is what one informer of a Watcher watches: a resource, in one
// namespace or ("") in all.
type Resource struct {
	GVR       schema.GroupVersionResource
	Namespace string
}

// Edit is an edit or a deletion of a watched object by someone other
// than FieldManager.
type Edit struct {
	GVK             schema.GroupVersionKind
	Namespace, Name string
	Labels          map[string]string
	Annotations     map[string]string
	Deleted         bool
}

// WatcherOptions configure a Watcher.
type WatcherOptions struct {
	// Selector is the label selector every watched object carries (the
	// post-renderer's origin label): only those are listed and cached.
	Selector string
	// Log receives the informers' start and stop.
	Log logr.Logger
}

// Watcher reports the changes of released objects as they happen, so that
// drift is detected on the event instead of at the next interval. Its
// informers are shared: one per Resource, whatever the number of releases
// that need it, started by the first and stopped when the last lets go.
// What it reports leaves out what cannot be drift: the initial listing,
// status-only updates (a Deployment's replicas), and writes whose newest
// managedFields entries are all FieldManager's (an upgrade, or Correct's
// own apply), so that a correction does not trigger itself.
type Watcher struct {
	client dynamic.Interface
	opts   WatcherOptions
	onEdit func(Edit)

	mu        sync.Mutex
	informers map[Resource]*watched
	users     map[string][]Resource
}

type watched struct {
	stop  context.CancelFunc
	users map[string]struct{}
}

// NewWatcher returns a Watcher that lists and watches with client and
// calls onEdit (from the informers' goroutines) for each edit.
func NewWatcher(client dynamic.Interface, onEdit func(Edit), opts WatcherOptions) *Watcher {
	return &Watcher{client: client, opts: opts, onEdit: onEdit,
		informers: map[Resource]*watched{}, users: map[string][]Resource{}}
}

// Set makes user (a release) need exactly resources: informers it needs
// start, those no user needs any more stop. Set(user, nil) lets go of all.
func (w *Watcher) Set(user string, resources []Resource) {
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[Resource]bool{}
	for _, r := range resources {
		want[r] = true
	}
	for _, r := range w.users[user] {
		if !want[r] {
			w.release(user, r)
		}
	}
	var kept []Resource
	for r := range want {
		inf, ok := w.informers[r]
		if !ok {
			inf = w.start(r)
			w.informers[r] = inf
		}
		inf.users[user] = struct{}{}
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		delete(w.users, user)
		return
	}
	w.users[user] = kept
}

// Informers is the number of informers running.
func (w *Watcher) Informers() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.informers)
}

// release drops user from r's informer and stops it when it was the last;
// w.mu is held.
func (w *Watcher) release(user string, r Resource) {
	inf, ok := w.informers[r]
	if !ok {
		return
	}
	delete(inf.users, user)
	if len(inf.users) == 0 {
		inf.stop()
		delete(w.informers, r)
		w.opts.Log.V(1).Info("stopped drift informer", "resource", r.GVR.String(), "namespace", r.Namespace)
	}
}

func (w *Watcher) start(r Resource) *watched {
	res := w.client.Resource(r.GVR).Namespace(r.Namespace)
	sel := w.opts.Selector
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = sel
			return res.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = sel
			return res.Watch(ctx, opts)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, 0, cache.Indexers{})
	// Errors from these setters only come from a started informer.
	_ = inf.SetTransform(newestManagersOnly)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if u, ok := obj.(*unstructured.Unstructured); ok && !initial && !byManagerOnly(u) {
				w.report(u, false)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*unstructured.Unstructured)
			n, ok2 := newObj.(*unstructured.Unstructured)
			if ok1 && ok2 && !byManagerOnly(n) && !statusOnly(o, n) {
				w.report(n, false)
			}
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				w.report(u, true)
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	go inf.RunWithContext(ctx)
	w.opts.Log.V(1).Info("started drift informer", "resource", r.GVR.String(), "namespace", r.Namespace, "selector", sel)
	return &watched{stop: cancel, users: map[string]struct{}{}}
}

func (w *Watcher) report(u *unstructured.Unstructured, deleted bool) {
	w.onEdit(Edit{GVK: u.GroupVersionKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		Labels: u.GetLabels(), Annotations: u.GetAnnotations(), Deleted: deleted})
}

// newestManagersOnly keeps, of an object's managedFields, the entries of
// the newest write only (what byManagerOnly reads), and not their field
// sets: the cache stays small.
func newestManagersOnly(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	var newest []metav1.ManagedFieldsEntry
	var at time.Time
	for _, e := range u.GetManagedFields() {
		t := time.Time{}
		if e.Time != nil {
			t = e.Time.Time
		}
		switch {
		case t.After(at):
			at, newest = t, []metav1.ManagedFieldsEntry{{Manager: e.Manager, Operation: e.Operation, Time: e.Time}}
		case t.Equal(at):
			newest = append(newest, metav1.ManagedFieldsEntry{Manager: e.Manager, Operation: e.Operation, Time: e.Time})
		}
	}
	u.SetManagedFields(newest)
	return u, nil
}

// byManagerOnly tells whether the newest write of u was FieldManager's
// alone (managedFields times have a second's precision: another manager
// that wrote in the same second counts as someone else).
func byManagerOnly(u *unstructured.Unstructured) bool {
	mf := u.GetManagedFields()
	if len(mf) == 0 {
		return false
	}
	for _, e := range mf {
		if e.Manager != FieldManager {
			return false
		}
	}
	return true
}

// statusOnly tells whether an update changed nothing but the status and
// the bookkeeping of metadata (resourceVersion, managedFields).
func statusOnly(o, n *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy().Object
		delete(c, "status")
		if md, ok := c["metadata"].(map[string]any); ok {
			delete(md, "resourceVersion")
			delete(md, "managedFields")
		}
		return c
	}
	return reflect.DeepEqual(strip(o), strip(n))
}
