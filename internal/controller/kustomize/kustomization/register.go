package kustomization

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/artifact"
	"github.com/driftless/driftless/internal/health"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Controller is the kustomize controller as the manager selects it.
func Controller() manager.Controller {
	return manager.Controller{
		Name:    "kustomize",
		Objects: []client.Object{&kustomizev1.Kustomization{}},
		Cache:   watchedConfigs,
		Setup:   setup,
	}
}

// watchedConfigs keeps only the labelled ConfigMaps and Secrets in the
// shared cache: Secrets are otherwise read straight from the API server.
func watchedConfigs(opts manager.Options) (map[client.Object]cache.ByObject, error) {
	sel, err := labels.Parse(opts.Kustomize.WatchConfigsLabelSelector)
	if err != nil {
		return nil, fmt.Errorf("--watch-configs-label-selector: %w", err)
	}
	return map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {Label: sel},
		&corev1.Secret{}:    {Label: sel},
	}, nil
}

func setup(mgr ctrl.Manager, deps manager.Deps) error {
	cfg := mgr.GetConfig()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	// Artifacts come only from the storage server: a URL in a source's
	// status is the tenant's to write, and must not send the controller
	// elsewhere. An artifact may unpack to --artifact-max-size, the limit
	// the source side archives with; the file-count and time limits are
	// the fetcher's defaults (artifact.DefaultMaxFiles, DefaultTimeout).
	maxSize := deps.Options.Storage.MaxSize
	if maxSize == 0 {
		maxSize = -1 // the flag's 0 is no limit, the fetcher's is its default
	}
	fetcher, err := artifact.NewFetcher(artifact.FetcherOptions{
		Retries:            deps.Options.Kustomize.HTTPRetry,
		MaxDownloadSize:    maxSize,
		MaxUntarSize:       maxSize,
		AllowedURLPrefixes: append([]string{deps.Options.Storage.Advertised()}, deps.Options.Kustomize.ArtifactServers...),
	})
	if err != nil {
		return err
	}
	log := deps.Logger.WithName("kustomize")
	o := deps.Options
	r := &Reconciler{
		Client:                 mgr.GetClient(),
		APIReader:              mgr.GetAPIReader(),
		Config:                 cfg,
		Mapper:                 mapper,
		Health:                 health.NewChecker(healthCache(dyn, log, o), mapper, health.CheckerOptions{Log: log}),
		Fetcher:                fetcher,
		Unpacked:               artifact.NewUnpacked(fetcher, "", 10*time.Second),
		Log:                    log,
		NoCrossNamespaceRefs:   o.NoCrossNamespaceRefs,
		NoRemoteBases:          o.Kustomize.NoRemoteBases,
		DefaultServiceAccount:  o.DefaultServiceAccount,
		InsecureKubeconfigExec: o.Kustomize.InsecureKubeconfigExec,
		InsecureKubeconfigTLS:  o.Kustomize.InsecureKubeconfigTLS,
		OverrideManagers:       o.Kustomize.OverrideManagers,
		ConcurrentSSA:          o.Kustomize.ConcurrentSSA,
	}
	rt := &reconcile.Reconciler[*kustomizev1.Kustomization, State]{
		Kind:              r.Kind(),
		Client:            mgr.GetClient(),
		Events:            deps.Events.Sink(mgr.GetScheme(), "kustomize-controller"),
		Metrics:           deps.Metrics,
		RequeueDependency: o.RequeueDependency,
	}
	return r.SetupWithManager(context.Background(), mgr, rt, deps.Controller)
}

// healthCache is the controller's own readiness cache. Watching every
// namespace, it reads the objects Kustomizations applied (they carry the
// name label) from one informer per kind for the whole cluster, kept ten
// minutes after the last wait, instead of starting one per kind and
// namespace for every wait.
func healthCache(dyn dynamic.Interface, log logr.Logger, o manager.Options) *health.Cache {
	if !o.WatchAllNamespaces {
		return health.NewCache(dyn, log)
	}
	return health.NewCacheWithOptions(dyn, log, health.CacheOptions{
		OwnedSelector: kustomizev1.NameLabel,
		IdleTimeout:   10 * time.Minute,
	})
}
