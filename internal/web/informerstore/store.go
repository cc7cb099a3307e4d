// Package informerstore is the web UI's Store for `flux ui`: client-go
// informers over every catalogue kind, running under the user's own
// rest.Config, so the API server decides what the user sees. It links no
// controller-runtime (the CLI must not link the controller manager).
//
// When the user may not list a kind cluster-wide, the store runs its
// informers per namespace (those asked for, else the kube context's) and
// says so through web.Scoped. Kinds whose CRD is not installed are
// skipped. Secrets are never cached: Get reads their metadata only, for
// the call, and hands no data back.
package informerstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web"
)

// Options configure Start.
type Options struct {
	// Config is the user's connection (their kubeconfig, --context, --as).
	Config *rest.Config
	// Namespaces limit what the store watches; none means the whole
	// cluster, or Fallback when the user may not list cluster-wide.
	Namespaces []string
	// Fallback is the namespace to watch when the user may not list
	// cluster-wide and Namespaces is empty: the kube context's.
	Fallback string
	// SyncTimeout bounds the wait for the first lists; 0 is one minute.
	SyncTimeout time.Duration
	// Log receives skipped kinds and conversion errors; nil discards them.
	Log *slog.Logger
}

// Store is a web.Store over informers. Start makes one.
type Store struct {
	meta       metadata.Interface
	log        *slog.Logger
	namespaces []string                               // watched namespaces; nil when cluster-wide
	why        string                                 // why the store is limited, "" when it was asked to be
	byKind     map[string][]cache.SharedIndexInformer // by GroupKind string, one per watched scope
	skipped    []string
	health     health

	mu   sync.RWMutex
	subs map[int]func(web.Change)
	next int
}

var _ web.Store = (*Store)(nil)
var _ web.Scoped = (*Store)(nil)
var _ web.Troubled = (*Store)(nil)

// Start decides the scope, starts an informer per kind and scope, and
// waits until each has listed once. The informers run until ctx ends.
func Start(ctx context.Context, opts Options) (*Store, error) {
	if opts.Config == nil {
		return nil, errors.New("informer store: no rest.Config")
	}
	dyn, err := dynamic.NewForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("informer store: dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("informer store: metadata client: %w", err)
	}
	s := &Store{meta: md, log: opts.Log, byKind: map[string][]cache.SharedIndexInformer{}, subs: map[int]func(web.Change){}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	installed, scopes, err := s.plan(ctx, dyn, opts)
	if err != nil {
		return nil, err
	}
	var synced []cache.InformerSynced
	for _, ns := range scopes {
		factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
		for _, k := range installed {
			if !s.mayList(ctx, dyn, k, ns) {
				continue
			}
			inf := factory.ForResource(gvr(k)).Informer()
			if err := inf.SetTransform(typed(k)); err != nil {
				return nil, fmt.Errorf("informer store: %s: %w", k.Kind, err)
			}
			if _, err := inf.AddEventHandler(s.handler(k)); err != nil {
				return nil, fmt.Errorf("informer store: %s: %w", k.Kind, err)
			}
			key := k.GroupKind().String()
			s.byKind[key] = append(s.byKind[key], inf)
			synced = append(synced, inf.HasSynced)
		}
		factory.Start(ctx.Done())
	}
	timeout := opts.SyncTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	syncCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		return nil, fmt.Errorf("informer store: the first lists did not finish within %s", timeout)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("informer store: discovery client: %w", err)
	}
	go s.health.run(ctx, func(ctx context.Context) error {
		return disco.RESTClient().Get().AbsPath("/version").Do(ctx).Error()
	})
	return s, nil
}

// plan finds the installed kinds (a list of one item each: a 404 means no
// CRD) and the scopes to watch: the namespaces asked for, else the whole
// cluster when every installed kind may be listed there, else Fallback.
func (s *Store) plan(ctx context.Context, dyn dynamic.Interface, opts Options) ([]kinds.Kind, []string, error) {
	var installed []kinds.Kind
	clusterWide := true
	var denied []string
	for _, k := range kinds.All() {
		_, err := dyn.Resource(gvr(k)).List(ctx, metav1.ListOptions{Limit: 1})
		switch {
		case err == nil:
			installed = append(installed, k)
		case apierrors.IsNotFound(err):
			s.log.Info("kind skipped: its CRD is not installed", "kind", k.Kind)
			s.skipped = append(s.skipped, k.Kind)
		case apierrors.IsForbidden(err):
			installed = append(installed, k)
			clusterWide = false
			denied = append(denied, k.Resource)
		default:
			return nil, nil, fmt.Errorf("informer store: listing %s: %w", k.Resource, err)
		}
	}
	if len(opts.Namespaces) > 0 {
		s.namespaces = slices.Clone(opts.Namespaces)
		sort.Strings(s.namespaces)
		s.namespaces = slices.Compact(s.namespaces)
		if !clusterWide {
			s.why = "you may not list cluster-wide"
		} else {
			s.why = "limited by --namespaces"
		}
		return installed, s.namespaces, nil
	}
	if clusterWide {
		return installed, []string{metav1.NamespaceAll}, nil
	}
	if opts.Fallback == "" {
		return nil, nil, fmt.Errorf("informer store: you may not list %s cluster-wide and no namespace was given (--namespaces)",
			strings.Join(denied, ", "))
	}
	s.namespaces = []string{opts.Fallback}
	s.why = "you may not list cluster-wide"
	return installed, s.namespaces, nil
}

// mayList tells whether the user may list k in ns; a kind they may not is
// left out of that scope rather than retried by an informer forever.
func (s *Store) mayList(ctx context.Context, dyn dynamic.Interface, k kinds.Kind, ns string) bool {
	if ns == metav1.NamespaceAll {
		return true // plan listed it cluster-wide already
	}
	_, err := dyn.Resource(gvr(k)).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		s.log.Info("kind skipped in a namespace", "kind", k.Kind, "namespace", ns, "error", err)
		return false
	}
	return true
}

// Namespaces implements web.Scoped.
func (s *Store) Namespaces() ([]string, bool, string) {
	return slices.Clone(s.namespaces), s.namespaces != nil, s.why
}

// Problem implements web.Troubled: why the pages may be stale, "" when
// the informers are healthy.
func (s *Store) Problem() string { return s.health.problem() }

// Skipped are the catalogue kinds whose CRD is not installed.
func (s *Store) Skipped() []string { return slices.Clone(s.skipped) }

func gvr(k kinds.Kind) schema.GroupVersionResource {
	return k.GroupVersion().WithResource(k.Resource)
}

// typed converts what the informer lists to the kind's Go type once, as it
// enters the cache, and drops managed fields, which no page shows.
func typed(k kinds.Kind) cache.TransformFunc {
	return func(in any) (any, error) {
		u, ok := in.(*unstructured.Unstructured)
		if !ok {
			return in, nil // a DeletedFinalStateUnknown, or already typed
		}
		obj := k.New()
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
			return nil, fmt.Errorf("converting %s %s/%s: %w", k.Kind, u.GetNamespace(), u.GetName(), err)
		}
		obj.SetManagedFields(nil)
		return obj, nil
	}
}

// List implements web.Store, sorted by namespace and name. A kind that is
// not installed, or a namespace outside the store's scope, lists nothing.
func (s *Store) List(_ context.Context, k kinds.Kind, namespace string) ([]kinds.Object, error) {
	var out []kinds.Object
	for _, inf := range s.byKind[k.GroupKind().String()] {
		var items []any
		if namespace == "" {
			items = inf.GetIndexer().List()
		} else {
			var err error
			if items, err = inf.GetIndexer().ByIndex(cache.NamespaceIndex, namespace); err != nil {
				return nil, fmt.Errorf("listing %s in %s: %w", k.Resource, namespace, err)
			}
		}
		for _, it := range items {
			if o, ok := it.(kinds.Object); ok {
				// The informer's own object: it replaces objects and
				// never changes them, and pages only read (web.Store).
				out = append(out, o)
			}
		}
	}
	web.SortObjects(out)
	return out, nil
}

// Get implements web.Store. An object of a catalogue kind comes from the
// cache. A Secret (a static kind's readiness asks whether one exists) is
// read from the API server as metadata only, for this call: its data never
// reaches this process, let alone a page.
func (s *Store) Get(ctx context.Context, key types.NamespacedName, obj kinds.Object) error {
	if sec, ok := obj.(*corev1.Secret); ok {
		m, err := s.meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		*sec = corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: m.ObjectMeta}
		sec.ManagedFields = nil
		return nil
	}
	k, ok := kinds.Of(obj)
	if !ok {
		return fmt.Errorf("informer store: %T is not a catalogue kind", obj)
	}
	for _, inf := range s.byKind[k.GroupKind().String()] {
		it, exists, err := inf.GetIndexer().GetByKey(cacheKey(key))
		if err != nil {
			return fmt.Errorf("reading %s %s: %w", k.Kind, key, err)
		}
		if exists {
			if o, ok := it.(kinds.Object); ok {
				if reflect.TypeOf(o) != reflect.TypeOf(obj) {
					return fmt.Errorf("reading %s %s: cached a %T, asked for a %T", k.Kind, key, o, obj)
				}
				reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(o.DeepCopyObject()).Elem())
				return nil
			}
		}
	}
	return apierrors.NewNotFound(schema.GroupResource{Group: k.Group, Resource: k.Resource}, key.Name)
}

func cacheKey(key types.NamespacedName) string {
	if key.Namespace == "" {
		return key.Name
	}
	return key.Namespace + "/" + key.Name
}

// Subscribe implements web.Store: fn runs on the informer's goroutine with
// a copy of each changed object, and must not block (web.Store says so).
func (s *Store) Subscribe(fn func(web.Change)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next
	s.next++
	s.subs[id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

func (s *Store) handler(k kinds.Kind) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.notify(k, obj, false) },
		UpdateFunc: func(_, obj any) { s.notify(k, obj, false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			s.notify(k, obj, true)
		},
	}
}

func (s *Store) notify(k kinds.Kind, obj any, deleted bool) {
	o, ok := obj.(kinds.Object)
	if !ok {
		return
	}
	s.mu.RLock()
	subs := make([]func(web.Change), 0, len(s.subs))
	for _, fn := range s.subs {
		subs = append(subs, fn)
	}
	s.mu.RUnlock()
	for _, fn := range subs {
		fn(web.Change{Kind: k, Object: o, Deleted: deleted})
	}
}
