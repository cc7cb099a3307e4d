// Package objectreader is the web UI's reader of objects of any kind
// (web.ObjectReader): a dynamic client, and a RESTMapper over discovery
// kept in memory so that a page does not ask the API server which kinds
// it serves. The UI uses it for the inventory tree and the "who manages
// this?" lookup, whose kinds are whatever a Kustomization applied.
package objectreader

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/driftless/driftless/internal/web"
)

// DefaultResetInterval is how often at most a kind the cached discovery
// does not know makes the Reader ask the API server again: a CRD installed
// since is found within it, and a visitor typing unknown kinds cannot make
// every request a discovery round.
const DefaultResetInterval = 30 * time.Second

// Reader implements web.ObjectReader.
type Reader struct {
	client    dynamic.Interface
	discovery discovery.CachedDiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	// expander adds kubectl's short names (deploy, cm) to mapper.
	expander apimeta.RESTMapper

	// ResetInterval bounds discovery refreshes (DefaultResetInterval);
	// zero refreshes on every unknown kind.
	ResetInterval time.Duration
	mu            sync.Mutex
	lastReset     time.Time
}

var _ web.ObjectReader = (*Reader)(nil)

// New reads with client, and learns kinds from disc, cached in memory.
func New(client dynamic.Interface, disc discovery.DiscoveryInterface) *Reader {
	cached := memory.NewMemCacheClient(disc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	return &Reader{client: client, discovery: cached, mapper: mapper,
		expander: restmapper.NewShortcutExpander(mapper, cached, nil), ResetInterval: DefaultResetInterval}
}

// NewForConfig is a Reader acting with cfg: the controller's identity in
// the cluster, the user's kubeconfig for `flux ui`. httpClient, when not
// nil, is shared with the caller's other clients.
func NewForConfig(cfg *rest.Config, httpClient *http.Client) (*Reader, error) {
	var err error
	if httpClient == nil {
		if httpClient, err = rest.HTTPClientFor(cfg); err != nil {
			return nil, fmt.Errorf("object reader: make the HTTP client: %w", err)
		}
	}
	client, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("object reader: make the dynamic client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("object reader: make the discovery client: %w", err)
	}
	return New(client, disc), nil
}

// retry runs f, and once more after forgetting the cached discovery when f
// met a kind the cache does not know, at most once per ResetInterval.
func (r *Reader) retry(f func() error) error {
	err := f()
	if err == nil || !apimeta.IsNoMatchError(err) {
		return err
	}
	r.mu.Lock()
	now := time.Now()
	due := r.lastReset.IsZero() || now.Sub(r.lastReset) >= r.ResetInterval
	if due {
		r.lastReset = now
	}
	r.mu.Unlock()
	if !due {
		return err
	}
	r.mapper.Reset()
	return f()
}

// KindFor implements web.ObjectReader: the mapping of gk at version, or
// at the preferred version when the cluster no longer serves that one.
func (r *Reader) KindFor(gk schema.GroupKind, version string) (web.ObjectKind, error) {
	var m *apimeta.RESTMapping
	err := r.retry(func() error {
		var err error
		if version != "" {
			if m, err = r.mapper.RESTMapping(gk, version); err == nil {
				return nil
			}
		}
		m, err = r.mapper.RESTMapping(gk)
		return err
	})
	if err != nil {
		return web.ObjectKind{}, err
	}
	return objectKind(m), nil
}

// Resolve implements web.ObjectReader, as kubectl reads a resource
// argument: "deployments.apps" is resource and group, and kinds, singular
// names and short names are matched without regard to case.
func (r *Reader) Resolve(typed string) (web.ObjectKind, error) {
	gr := schema.ParseGroupResource(strings.ToLower(strings.TrimSpace(typed)))
	var gvk schema.GroupVersionKind
	err := r.retry(func() error {
		var err error
		gvk, err = r.expander.KindFor(gr.WithVersion(""))
		return err
	})
	if err != nil {
		return web.ObjectKind{}, err
	}
	return r.KindFor(gvk.GroupKind(), gvk.Version)
}

// Kinds implements web.ObjectReader: every kind discovery lists, sorted;
// a group whose discovery failed is left out rather than failing all.
func (r *Reader) Kinds() ([]string, error) {
	lists, err := r.discovery.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("list the kinds the cluster serves: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, res := range l.APIResources {
			if strings.Contains(res.Name, "/") || seen[res.Kind] {
				continue // a subresource, or a kind already named
			}
			seen[res.Kind] = true
			out = append(out, res.Kind)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Get implements web.ObjectReader.
func (r *Reader) Get(ctx context.Context, k web.ObjectKind, namespace, name string) (*unstructured.Unstructured, error) {
	return r.resource(k, namespace).Get(ctx, name, metav1.GetOptions{})
}

// List implements web.ObjectReader.
func (r *Reader) List(ctx context.Context, k web.ObjectKind, namespace string) ([]unstructured.Unstructured, error) {
	l, err := r.resource(k, namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// resource is the client of kind k, in namespace for a namespaced kind.
func (r *Reader) resource(k web.ObjectKind, namespace string) dynamic.ResourceInterface {
	res := r.client.Resource(k.GroupVersion().WithResource(k.Resource))
	if !k.Namespaced {
		return res
	}
	return res.Namespace(namespace)
}

// objectKind is what the UI needs of a mapping.
func objectKind(m *apimeta.RESTMapping) web.ObjectKind {
	return web.ObjectKind{GroupVersionKind: m.GroupVersionKind, Resource: m.Resource.Resource,
		Namespaced: m.Scope.Name() == apimeta.RESTScopeNameNamespace}
}
