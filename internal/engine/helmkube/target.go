package helmkube

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/Masterminds/sprig/v3"
	"github.com/go-logr/logr"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/engine/tenanttemplate"
)

// chartFuncs replace, in every chart render, the Sprig functions a chart
// (tenant content) could use to crash the controller (a dictionary set
// into itself, then printed) or take its memory in one call (repeat,
// indent, until). The bounds are far above what a chart renders: a
// release is stored in one Secret of at most 1 MiB.
var chartFuncs = tenanttemplate.Funcs(sprig.TxtFuncMap(), tenanttemplate.Limits{MaxString: 16 << 20, MaxList: 1 << 20})

// FieldManager is the field manager of every write Helm makes through this
// package, as Flux's helm-controller writes.
const FieldManager = "helm-controller"

// StorageDriver is the Helm storage driver of every configuration: releases
// are Secrets named sh.helm.release.v1.<name>.v<N>, which the helm CLI reads.
const StorageDriver = "secret"

// fieldManagerOnce sets Helm's field manager. Helm offers it only as the
// package variable kube.ManagedFieldsManager, read by every kube client of
// the process; it is set once, before the first configuration is built, to
// the one value this process writes with.
var fieldManagerOnce sync.Once

// TargetOptions are the optional parts of a Target.
type TargetOptions struct {
	// Checker waits for released objects (the watcher and hook-only
	// strategies). Nil builds one over a health.Cache of the Target's own
	// identity. A caller passing its own must make sure it reads as this
	// Target's identity may.
	Checker *health.Checker
	// Log receives the Target's and Helm's log lines; the zero value
	// discards them.
	Log logr.Logger
}

// TargetStats count what a Target built.
type TargetStats struct {
	// DiscoveryClients is the number of discovery clients built: one per
	// Target, whatever the number of actions.
	DiscoveryClients int
	// Invalidations counts Invalidate calls and RESTMapper resets.
	Invalidations int
}

// Target is one cluster as one identity, with the discovery client,
// RESTMapper, OpenAPI cache and health Checker every Helm action for it
// shares. It is safe for concurrent use.
type Target struct {
	config  *rest.Config
	log     logr.Logger
	dc      discovery.CachedDiscoveryInterface
	mapper  *resettingMapper
	checker *health.Checker
	watcher dynamic.Interface

	mu      sync.Mutex
	factory kube.Factory

	discoveryClients atomic.Int64
	invalidations    atomic.Int64
}

// NewTarget returns the Target of cfg: the controller's config, an
// impersonated copy of it (cfg.Impersonate names a ServiceAccount) or a
// remote cluster's. Nothing is fetched until the first action needs it.
func NewTarget(cfg *rest.Config, opts TargetOptions) (*Target, error) {
	if cfg == nil {
		return nil, errors.New("helm target: no rest config")
	}
	fieldManagerOnce.Do(func() { kube.ManagedFieldsManager = FieldManager })
	t := &Target{config: rest.CopyConfig(cfg), log: opts.Log}
	dc, err := discovery.NewDiscoveryClientForConfig(t.config)
	if err != nil {
		return nil, fmt.Errorf("helm target %s: discovery client: %w", cfg.Host, err)
	}
	t.discoveryClients.Add(1)
	t.dc = memory.NewMemCacheClient(dc)
	t.mapper = &resettingMapper{
		DeferredDiscoveryRESTMapper: restmapper.NewDeferredDiscoveryRESTMapper(t.dc),
		resets:                      &t.invalidations,
		live:                        dc,
	}
	// Watches outlive any one request: no client timeout on them.
	watchCfg := rest.CopyConfig(t.config)
	watchCfg.Timeout = 0
	if t.watcher, err = dynamic.NewForConfig(watchCfg); err != nil {
		return nil, fmt.Errorf("helm target %s: dynamic client: %w", cfg.Host, err)
	}
	t.checker = opts.Checker
	if t.checker == nil {
		t.checker = health.NewChecker(health.NewCache(t.watcher, t.log), t.mapper, health.CheckerOptions{Log: t.log})
	}
	t.factory = t.newFactory()
	return t, nil
}

// newFactory is kubectl's factory over the Target, which Helm's kube clients
// build and validate objects with; it keeps the OpenAPI v2 schema it fetches,
// so it is shared by every action and replaced on Invalidate.
func (t *Target) newFactory() kube.Factory {
	return &cachingFactory{Factory: kube.New(&getter{target: t}).Factory}
}

// Invalidate forgets the discovery, RESTMapper and OpenAPI caches, so that
// the next action sees CRDs created or changed since: call it after applying
// CRDs. Nothing is fetched until an action needs it.
func (t *Target) Invalidate() {
	t.mapper.Reset()
	t.mu.Lock()
	t.factory = t.newFactory()
	t.mu.Unlock()
}

// Stats reports what the Target built.
func (t *Target) Stats() TargetStats {
	return TargetStats{
		DiscoveryClients: int(t.discoveryClients.Load()),
		Invalidations:    int(t.invalidations.Load()),
	}
}

// Checker is the health Checker the Target's waits use.
func (t *Target) Checker() *health.Checker { return t.checker }

// RESTMapper is the Target's shared RESTMapper.
func (t *Target) RESTMapper() *restmapper.DeferredDiscoveryRESTMapper {
	return t.mapper.DeferredDiscoveryRESTMapper
}

func (t *Target) shared() (discovery.CachedDiscoveryInterface, *resettingMapper) {
	return t.dc, t.mapper
}

func (t *Target) sharedFactory() kube.Factory {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.factory
}

// ActionOptions say which release an action configuration is for.
type ActionOptions struct {
	// Namespace is the release's namespace (targetNamespace): rendered
	// objects that name no namespace are put there. Required.
	Namespace string
	// StorageNamespace holds the release's storage Secrets; empty means
	// Namespace.
	StorageNamespace string
	// Context bounds every wait of the actions run with the configuration;
	// cancelling it ends them. Nil means context.Background().
	Context context.Context
	// HealthCheckExprs decide the readiness of the kinds they match in the
	// waits of the watcher strategy (Flux's healthCheckExprs).
	HealthCheckExprs []meta.CustomHealthCheck
}

// ActionConfig builds a Helm action configuration for one release on the
// Target: the Target's shared discovery client and RESTMapper, Secrets
// storage in the storage namespace and a kube client of the Target's
// identity, whose waiter is health's for the watcher and hook-only
// strategies. It is cheap: nothing is fetched from the cluster.
func (t *Target) ActionConfig(opts ActionOptions) (*action.Configuration, error) {
	if opts.Namespace == "" {
		return nil, errors.New("helm action configuration: no release namespace")
	}
	storage := opts.StorageNamespace
	if storage == "" {
		storage = opts.Namespace
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(logr.ToSlogHandler(t.log)))
	if err := cfg.Init(&getter{target: t, namespace: opts.Namespace}, storage, StorageDriver); err != nil {
		return nil, fmt.Errorf("helm action configuration for namespace %s: %w", opts.Namespace, err)
	}
	cfg.CustomTemplateFuncs = maps.Clone(chartFuncs)
	kc, ok := cfg.KubeClient.(*kube.Client)
	if !ok {
		return nil, fmt.Errorf("helm action configuration: unexpected kube client %T", cfg.KubeClient)
	}
	kc.Factory = t.sharedFactory()
	kc.Namespace = opts.Namespace
	client := &Client{Client: kc, target: t, ctx: ctx, checks: opts.HealthCheckExprs}
	// Helm's client keeps a default waiter of its own, unset here; whoever
	// reaches it directly gets the watcher strategy's.
	kc.Waiter = client.waiter(false)
	cfg.KubeClient = client
	return cfg, nil
}
