// Package cachestore is the web UI's Store in the cluster: it reads the
// catalogue kinds from driftless-controller's shared controller-runtime
// cache and feeds live pages from that cache's informers, so the UI adds no
// watch of its own for the kinds the controllers already watch. It never
// makes the cache watch anything outside the catalogue: a Secret a static
// kind's readiness looks for is read from the API server, metadata only and
// uncached, and Events are not this package's business (an object page
// watches them for its own stream).
package cachestore

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web"
)

// Cache is what the store needs of the manager's cache (mgr.GetCache()):
// reads, and the informers whose event handlers feed Subscribe.
type Cache interface {
	client.Reader
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// Store is a web.Store over a controller-runtime cache.
type Store struct {
	cache Cache
	api   client.Reader
	log   *slog.Logger

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	regs []registration // the informers' handlers while anyone subscribes
}

type subscriber struct {
	fn        func(web.Change)
	cancelled atomic.Bool
}

type registration struct {
	informer cache.Informer
	handle   toolscache.ResourceEventHandlerRegistration
}

var _ web.Store = (*Store)(nil)

// New returns the store over c (the manager's cache). api (the manager's
// API reader, mgr.GetAPIReader()) reads what must not be cached: whether a
// Secret exists. log receives informer errors; nil discards them.
func New(c Cache, api client.Reader, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{cache: c, api: api, log: log, subs: map[*subscriber]struct{}{}}
}

// List implements web.Store: the cache's objects of kind k (copies, as the
// cache hands out by default, copied again should a cache share them),
// sorted by namespace and name.
func (s *Store) List(ctx context.Context, k kinds.Kind, namespace string) ([]kinds.Object, error) {
	list, ok := k.NewList().(client.ObjectList)
	if !ok {
		return nil, fmt.Errorf("list %s: %T is not a client.ObjectList", k.Resource, k.NewList())
	}
	// No deep copy: the items share their maps and slices with the cache's
	// objects, which the informer replaces and never changes, and the
	// pages only read (web.Store). A live overview lists every object
	// four times a second; the copies were a sixth of its CPU at 1,000
	// objects, and more in garbage collection.
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := s.cache.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("list %s from the cache: %w", k.Resource, err)
	}
	out := k.Items(list)
	web.SortObjects(out)
	return out, nil
}

// Get implements web.Store. An object of a catalogue kind comes from the
// cache. A Secret comes from the API server, uncached and metadata only:
// readiness needs to know it exists, and neither the cache nor this
// process's memory should hold every Secret's value for that. Any other
// type is refused, so that no read through the UI starts a new informer.
func (s *Store) Get(ctx context.Context, key types.NamespacedName, obj kinds.Object) error {
	if secret, ok := obj.(*corev1.Secret); ok {
		return s.getSecretMeta(ctx, key, secret)
	}
	if _, ok := kinds.Of(obj); !ok {
		return fmt.Errorf("get %s: %T is not a kind the UI reads", key, obj)
	}
	co, ok := obj.(client.Object)
	if !ok {
		return fmt.Errorf("get %s: %T is not a client.Object", key, obj)
	}
	return s.cache.Get(ctx, key, co)
}

// getSecretMeta fills secret's metadata only (no data, no type).
func (s *Store) getSecretMeta(ctx context.Context, key types.NamespacedName, secret *corev1.Secret) error {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := s.api.Get(ctx, key, m); err != nil {
		return err
	}
	*secret = corev1.Secret{TypeMeta: m.TypeMeta, ObjectMeta: m.ObjectMeta}
	return nil
}

// Subscribe implements web.Store. The first subscriber adds one event
// handler to the informer of every catalogue kind (starting none the
// controllers have not, unless a kind's controller is not selected: the UI
// lists that kind anyway); the last cancel removes them. Handlers skip the
// initial list an informer replays to a new handler: Subscribe reports
// later changes only. fn gets its own copy of each object and runs on the
// informer's handler goroutine, so it must not block (web.Store). After
// cancel returns, fn is not called again, except a call already under way.
func (s *Store) Subscribe(fn func(web.Change)) (cancel func()) {
	sub := &subscriber{fn: fn}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	if len(s.subs) == 1 {
		s.register()
	}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			sub.cancelled.Store(true)
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.subs, sub)
			if len(s.subs) == 0 {
				s.unregister()
			}
		})
	}
}

// register adds the handlers; the caller holds s.mu. An informer that
// cannot be had (a kind whose CRD is not installed) is logged and skipped:
// its objects cannot change.
func (s *Store) register() {
	for _, k := range kinds.All() {
		obj, ok := k.New().(client.Object)
		if !ok {
			continue
		}
		// BlockUntilSynced(false): Subscribe has no context and must not
		// wait for a kind's first list.
		inf, err := s.cache.GetInformer(context.Background(), obj, cache.BlockUntilSynced(false))
		if err != nil {
			s.log.Error("watch a kind for live updates", "kind", k.Kind, "error", err)
			continue
		}
		h, err := inf.AddEventHandler(s.handler(k))
		if err != nil {
			s.log.Error("add an event handler for live updates", "kind", k.Kind, "error", err)
			continue
		}
		s.regs = append(s.regs, registration{informer: inf, handle: h})
	}
}

// unregister removes the handlers; the caller holds s.mu.
func (s *Store) unregister() {
	for _, r := range s.regs {
		if err := r.informer.RemoveEventHandler(r.handle); err != nil {
			s.log.Error("remove a live-update event handler", "error", err)
		}
	}
	s.regs = nil
}

func (s *Store) handler(k kinds.Kind) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if !initial {
				s.notify(k, obj, false)
			}
		},
		UpdateFunc: func(_, obj any) { s.notify(k, obj, false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			s.notify(k, obj, true)
		},
	}
}

// notify hands each live subscriber obj, outside the lock (a subscriber
// may cancel from fn). It is the informer's own object, which the informer
// replaces and never changes, and subscribers only read (web.Store): a
// copy per change and subscriber held a wave's changed objects twice.
func (s *Store) notify(k kinds.Kind, obj any, deleted bool) {
	o, ok := obj.(kinds.Object)
	if !ok || reflect.TypeOf(o) != reflect.TypeOf(k.New()) {
		return
	}
	s.mu.Lock()
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if !sub.cancelled.Load() {
			sub.fn(web.Change{Kind: k, Object: o, Deleted: deleted})
		}
	}
}
