// Package kustomize wires the "kustomize" controller group of
// driftless-controller: its flags, the ConfigMaps and Secrets it keeps in the
// shared cache, and the controllers of its kinds (Kustomization).
package kustomize

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/controller/kustomize/kustomization"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/engine/kubeconfig"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Options are the flags of the kustomize controller.
type Options struct {
	NoRemoteBases    bool
	ConcurrentSSA    int
	OverrideManagers []string
	// Kubeconfig binds --insecure-kubeconfig-exec and
	// --insecure-kubeconfig-tls, shared with the helm group.
	Kubeconfig kubeconfig.Flags
	HTTPRetry  int
	// ArtifactServers are the servers, besides this process's own storage
	// address, that artifacts may be downloaded from (a separate source
	// controller's, or a third party's that publishes ExternalArtifacts).
	ArtifactServers []string
}

// BindFlags registers the kustomize controller's flags on fs with their
// defaults.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.NoRemoteBases, "no-remote-bases", false, "refuse kustomize resources and bases fetched from URLs")
	fs.IntVar(&o.ConcurrentSSA, "concurrent-ssa", 4, "server-side dry-runs run at once per Kustomization")
	fs.StringArrayVar(&o.OverrideManagers, "override-manager", nil, "field manager whose edits are reverted like kubectl's (repeatable)")
	o.Kubeconfig.Bind(fs)
	fs.IntVar(&o.HTTPRetry, "http-retry", 9, "retries of an artifact download")
	fs.StringSliceVar(&o.ArtifactServers, "artifact-servers", nil, "servers (host[:port] or URL) artifacts may be downloaded from besides --storage-adv-addr; a source status naming any other is refused")
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	var o Options
	o.BindFlags(pflag.NewFlagSet("kustomize", pflag.ContinueOnError))
	return o
}

// Controller is the kustomize controller as the manager selects it, with
// its flags at their defaults until the command line sets them.
func Controller() manager.Controller { return New(DefaultOptions()) }

// New is the kustomize controller with the given options; its Flags bind
// the command line to them.
func New(o Options) manager.Controller {
	g := &group{opts: o}
	return manager.Controller{
		Name:    "kustomize",
		Objects: []client.Object{&kustomizev1.Kustomization{}},
		// --watch-configs-label-selector is the process's (the helm group
		// reads it too).
		Cache: manager.WatchedConfigs,
		Setup: g.setup,
		Flags: g.opts.BindFlags,
		Gates: Gates,
	}
}

// kustomize-controller's feature gates with Flux's defaults, but for
// ExternalArtifact (on, as for HelmReleases). Those Driftless does not
// build take only their default; CacheSecretsAndConfigMaps is the helm
// group's (Kustomizations read Secrets directly either way).
var (
	DisableConfigWatchers = features.Gate{Name: "DisableConfigWatchers"}
	ExternalArtifact      = features.Gate{Name: "ExternalArtifact", Default: true}

	Gates = []features.Gate{
		DisableConfigWatchers, ExternalArtifact,
		{Name: "CacheSecretsAndConfigMaps"},
		{Name: "AdditiveCELDependencyCheck", Unsupported: "not built in Driftless"},
		{Name: "CancelHealthCheckOnNewRevision", Unsupported: "not built in Driftless"},
		{Name: "DirectSourceFetch", Unsupported: "not built in Driftless"},
		{Name: "DisableFailFastBehavior", Unsupported: "not built in Driftless: health checks always fail fast"},
		{Name: "DisableStatusPollerCache", Default: true, Unsupported: "Driftless's health checks always watch through shared informers"},
		{Name: "GroupChangeLog", Unsupported: "not built in Driftless"},
		{Name: "MigrateAPIVersion", Unsupported: "not built in Driftless"},
		{Name: "ObjectLevelWorkloadIdentity", Unsupported: "Driftless does not build cloud workload identity"},
		{Name: "StrictPostBuildSubstitutions", Default: true, Unsupported: "Driftless's substitution keeps Flux's default"},
	}
)

// group holds the options the kustomize controller's flags bind.
type group struct{ opts Options }

func (g *group) setup(mgr ctrl.Manager, deps manager.Deps) error {
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
		Retries:            g.opts.HTTPRetry,
		MaxDownloadSize:    maxSize,
		MaxUntarSize:       maxSize,
		AllowedURLPrefixes: append([]string{deps.Options.Storage.Advertised()}, g.opts.ArtifactServers...),
	})
	if err != nil {
		return err
	}
	log := deps.Logger.WithName("kustomize")
	o := deps.Options
	policy := g.opts.Kubeconfig.Policy()
	r := &kustomization.Reconciler{
		Client:                 mgr.GetClient(),
		APIReader:              mgr.GetAPIReader(),
		Config:                 cfg,
		Mapper:                 mapper,
		Health:                 health.NewChecker(healthCache(dyn, log, o), mapper, health.CheckerOptions{Log: log}),
		Fetcher:                fetcher,
		Storage:                o.Storage.Advertised(),
		NoExternalArtifact:     !o.FeatureGates.Enabled(ExternalArtifact),
		NoConfigWatchers:       o.FeatureGates.Enabled(DisableConfigWatchers),
		Unpacked:               artifact.NewUnpacked(fetcher, "", 10*time.Second),
		Log:                    log,
		NoCrossNamespaceRefs:   o.NoCrossNamespaceRefs,
		NoRemoteBases:          g.opts.NoRemoteBases,
		DefaultServiceAccount:  o.DefaultServiceAccount,
		InsecureKubeconfigExec: policy.AllowExec,
		InsecureKubeconfigTLS:  policy.AllowInsecureTLS,
		OverrideManagers:       g.opts.OverrideManagers,
		ConcurrentSSA:          g.opts.ConcurrentSSA,
	}
	return reconcile.Start(context.Background(), mgr, r.Kind(), deps.Runtime(mgr, "kustomize-controller"))
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
