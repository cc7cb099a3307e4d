package apply

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// kindClient is a dynamic client with one rate limiter per resource, over
// one shared HTTP client: --kube-api-qps and --kube-api-burst then bound the
// requests for each kind, as they do in controller-runtime's client (and
// so in Flux's controllers), instead of every kind of every Kustomization
// queueing behind one token bucket.
type kindClient struct {
	cfg      *rest.Config
	fallback dynamic.Interface // shares one limiter; used if a build fails

	mu      sync.Mutex
	clients map[schema.GroupVersionResource]dynamic.Interface
	build   func(*rest.Config) (dynamic.Interface, error)
}

// NewKindClient returns a dynamic client whose requests for each resource
// are rate-limited on their own by cfg's QPS and Burst.
func NewKindClient(cfg *rest.Config) (dynamic.Interface, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("http client: %w", err)
	}
	base := rest.CopyConfig(cfg)
	base.RateLimiter = nil // each resource gets its own from QPS and Burst
	build := func(c *rest.Config) (dynamic.Interface, error) {
		return dynamic.NewForConfigAndClient(c, httpClient)
	}
	fallback, err := build(rest.CopyConfig(base))
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return &kindClient{
		cfg:      base,
		fallback: fallback,
		clients:  map[schema.GroupVersionResource]dynamic.Interface{},
		build:    build,
	}, nil
}

// Resource returns the client of one resource, building it on first use.
func (k *kindClient) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.clients[gvr]
	if !ok {
		var err error
		if c, err = k.build(rest.CopyConfig(k.cfg)); err != nil {
			// The same config built the fallback, so this does not happen;
			// if it did, sharing one limiter is the safe way to go on.
			c = k.fallback
		}
		k.clients[gvr] = c
	}
	return c.Resource(gvr)
}
