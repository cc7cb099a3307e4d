// Package source wires the "source" controller of driftless-controller: the
// controllers of the source kinds, on the process's artifact storage and
// its HTTP server (internal/controller/artifactstore).
package source

import (
	"context"
	"time"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmanager "sigs.k8s.io/controller-runtime/pkg/manager"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/artifactstore"
	"github.com/driftless/driftless/internal/controller/source/bucket"
	"github.com/driftless/driftless/internal/controller/source/gitrepository"
	"github.com/driftless/driftless/internal/controller/source/helmchart"
	"github.com/driftless/driftless/internal/controller/source/helmrepository"
	"github.com/driftless/driftless/internal/controller/source/ocirepository"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Options are the flags of the source controller's own: the bounds of
// Helm indexes and charts, and the Helm index cache.
type Options struct {
	// HelmIndexMaxSize bounds a repository's index.yaml, in bytes.
	HelmIndexMaxSize int64
	// HelmChartMaxSize bounds a chart archive and what it expands to.
	HelmChartMaxSize int64
	// HelmChartFileMaxSize bounds each file of a chart.
	HelmChartFileMaxSize int64
	// HelmCacheMaxSize is how many parsed indexes the cache keeps; 0 turns
	// the cache off.
	HelmCacheMaxSize int
	// HelmCacheTTL is how long an index stays cached after its last use.
	HelmCacheTTL time.Duration
	// HelmCachePurgeInterval is how often expired indexes are dropped.
	HelmCachePurgeInterval time.Duration
}

// BindFlags registers the source controller's flags on fs with their
// defaults, Flux's names. Unlike Flux, the index cache is on by default.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.HelmIndexMaxSize, "helm-index-max-size", chartrepo.DefaultMaxIndexSize, "largest Helm repository index.yaml, in bytes")
	fs.Int64Var(&o.HelmChartMaxSize, "helm-chart-max-size", chart.DefaultMaxSize, "largest Helm chart archive, and the most its files may expand to, in bytes")
	fs.Int64Var(&o.HelmChartFileMaxSize, "helm-chart-file-max-size", chart.DefaultMaxFileSize, "largest file in a Helm chart, in bytes")
	fs.IntVar(&o.HelmCacheMaxSize, "helm-cache-max-size", chartrepo.DefaultCacheMaxEntries, "how many parsed Helm repository indexes are cached, shared by the HelmCharts of a repository; 0 turns the cache off")
	fs.DurationVar(&o.HelmCacheTTL, "helm-cache-ttl", chartrepo.DefaultCacheTTL, "how long a cached Helm index is kept after its last use")
	fs.DurationVar(&o.HelmCachePurgeInterval, "helm-cache-purge-interval", chartrepo.DefaultCachePurgeInterval, "how often expired Helm indexes are dropped from the cache")
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	var o Options
	o.BindFlags(pflag.NewFlagSet("source", pflag.ContinueOnError))
	return o
}

// Controller is the source controller as the manager selects it, with its
// flags at their defaults until the command line sets them.
func Controller() manager.Controller { return New(DefaultOptions()) }

// New is the source controller with the given options; its Flags bind the
// command line to them.
func New(o Options) manager.Controller {
	g := &group{opts: o}
	return manager.Controller{
		Name: "source",
		Objects: []client.Object{
			&sourcev1.GitRepository{}, &sourcev1.OCIRepository{},
			&sourcev1.HelmRepository{}, &sourcev1.HelmChart{}, &sourcev1.Bucket{},
		},
		Flags: g.opts.BindFlags,
		Setup: g.setup,
		Gates: Gates,
	}
}

// Gates are source-controller's feature gates with Flux's defaults; those
// Driftless does not build take only their default. CacheSecretsAndConfigMaps
// is the helm group's (the source controllers read Secrets directly).
var Gates = []features.Gate{
	{Name: "CacheSecretsAndConfigMaps"},
	{Name: "ObjectLevelWorkloadIdentity", Unsupported: "Driftless does not build cloud workload identity"},
	{Name: "OptimizedGitClones", Default: true, Unsupported: "Driftless always skips the clone when the remote revision is the stored one"},
}

type group struct{ opts Options }

// helmCache is the shared index cache the options ask for; nil when off.
func (g *group) helmCache() *chartrepo.Cache {
	if g.opts.HelmCacheMaxSize <= 0 {
		return nil
	}
	return chartrepo.NewCache(chartrepo.CacheOptions{
		MaxEntries:    g.opts.HelmCacheMaxSize,
		TTL:           g.opts.HelmCacheTTL,
		PurgeInterval: g.opts.HelmCachePurgeInterval,
	})
}

func (g *group) setup(mgr ctrl.Manager, deps manager.Deps) error {
	storage, err := artifactstore.For(mgr, deps.Options)
	if err != nil {
		return err
	}
	gr := &gitrepository.Reconciler{
		Client:  mgr.GetClient(),
		Secrets: mgr.GetAPIReader(),
		Storage: storage,
		Git:     &git.Client{},
	}
	if err := reconcile.Start(context.Background(), mgr, gr.Kind(), deps.Runtime(mgr, "source-controller")); err != nil {
		return err
	}
	or := &ocirepository.Reconciler{
		Client:  mgr.GetClient(),
		Secrets: mgr.GetAPIReader(),
		Storage: storage,
		MaxSize: deps.Options.Storage.MaxSize,
	}
	if err := reconcile.Start(context.Background(), mgr, or.Kind(), deps.Runtime(mgr, "source-controller")); err != nil {
		return err
	}
	br := &bucket.Reconciler{
		Client:   mgr.GetClient(),
		Secrets:  mgr.GetAPIReader(),
		Storage:  storage,
		MaxSize:  deps.Options.Storage.MaxSize,
		MaxFiles: deps.Options.Storage.MaxFiles,
	}
	if err := reconcile.Start(context.Background(), mgr, br.Kind(), deps.Runtime(mgr, "source-controller")); err != nil {
		return err
	}
	helmCache := g.helmCache()
	if helmCache != nil {
		if err := mgr.Add(ctrlmanager.RunnableFunc(func(ctx context.Context) error { helmCache.Run(ctx); return nil })); err != nil {
			return err
		}
	}
	hr := &helmrepository.Reconciler{
		Client:       mgr.GetClient(),
		Secrets:      mgr.GetAPIReader(),
		Storage:      storage,
		Cache:        helmCache,
		MaxIndexSize: g.opts.HelmIndexMaxSize,
	}
	if err := reconcile.Start(context.Background(), mgr, hr.Kind(), deps.Runtime(mgr, "source-controller")); err != nil {
		return err
	}
	hc := &helmchart.Reconciler{
		Client:       mgr.GetClient(),
		Secrets:      mgr.GetAPIReader(),
		Storage:      storage,
		Cache:        helmCache,
		Metrics:      deps.Metrics,
		Limits:       chart.Limits{MaxSize: g.opts.HelmChartMaxSize, MaxFileSize: g.opts.HelmChartFileMaxSize},
		MaxIndexSize: g.opts.HelmIndexMaxSize,
	}
	return reconcile.Start(context.Background(), mgr, hc.Kind(), deps.Runtime(mgr, "source-controller"))
}
