// Package helm wires the "helm" controller group of driftless-controller:
// its flags and the HelmRelease controller.
package helm

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/controller/helm/helmrelease"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/kubeconfig"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Options are the flags of the helm controller.
type Options struct {
	// SnapshotDigestAlgo digests release records in status.history.
	SnapshotDigestAlgo string
	// Kubeconfig binds --insecure-kubeconfig-exec and
	// --insecure-kubeconfig-tls: the kustomize group's flags when it
	// registered them first, this group's own otherwise.
	Kubeconfig kubeconfig.Flags
	// FetchFlags are --artifact-servers (the servers besides the storage
	// server that chart artifacts, an ExternalArtifact's, may come from)
	// and --http-retry: the kustomize group's flags when it registered
	// them first.
	sourceref.FetchFlags
	// OOMWatch is --oom-watch-*, acting under the OOMWatch gate.
	OOMWatch manager.OOMWatchOptions
}

// BindFlags registers the helm controller's own flags on fs with their
// defaults, Flux's names.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	o.Kubeconfig.Bind(fs)
	o.FetchFlags.Bind(fs)
	fs.DurationVar(&o.OOMWatch.Interval, "oom-watch-interval", 500*time.Millisecond, "how often the OOMWatch feature gate reads the memory use")
	fs.Uint8Var(&o.OOMWatch.Threshold, "oom-watch-memory-threshold", 95, "percentage of the memory limit at which the OOMWatch feature gate shuts the process down gracefully")
	fs.StringVar(&o.OOMWatch.MaxPath, "oom-watch-max-memory-path", "", "file of the memory limit (default the cgroup v2 memory.max, else cgroup v1's memory.limit_in_bytes)")
	fs.StringVar(&o.OOMWatch.CurrentPath, "oom-watch-current-memory-path", "", "file of the memory use (default the cgroup v2 memory.current, else cgroup v1's memory.usage_in_bytes)")
	fs.StringVar(&o.SnapshotDigestAlgo, "snapshot-digest-algo", "sha256", "digest algorithm of the release snapshots in HelmRelease status.history: sha256, sha384 or sha512")
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	var o Options
	o.BindFlags(pflag.NewFlagSet("helm", pflag.ContinueOnError))
	return o
}

// Controller is the helm controller as the manager selects it.
func Controller() manager.Controller { return New(DefaultOptions()) }

// New is the helm controller with the given options.
func New(o Options) manager.Controller {
	g := &group{opts: o}
	return manager.Controller{
		Name:    "helm",
		Objects: []client.Object{&helmv2.HelmRelease{}},
		// valuesFrom ConfigMaps and Secrets that --watch-configs-label-selector
		// selects reconcile their releases; the flag is the process's, shared
		// with the kustomize group.
		Cache: manager.WatchedConfigs,
		Flags: g.opts.BindFlags,
		Gates: Gates,
		Setup: g.setup,
	}
}

// helm-controller's feature gates, with Flux's defaults but for
// ExternalArtifact (see Gates).
var (
	AdoptLegacyReleases        = features.Gate{Name: "AdoptLegacyReleases"}
	AllowDNSLookups            = features.Gate{Name: "AllowDNSLookups"}
	DefaultToRetryOnFailure    = features.Gate{Name: "DefaultToRetryOnFailure"}
	DisableChartDigestTracking = features.Gate{Name: "DisableChartDigestTracking"}
	DisableConfigWatchers      = features.Gate{Name: "DisableConfigWatchers"}
	// ExternalArtifact is on by default: Driftless serves ExternalArtifact
	// chartRefs as flux install enables them with source-watcher (Flux's
	// controller default is false).
	ExternalArtifact = features.Gate{Name: "ExternalArtifact", Default: true}
	OOMWatch         = features.Gate{Name: "OOMWatch"}
	UseHelm3Defaults = features.Gate{Name: "UseHelm3Defaults"}

	ObjectLevelWorkloadIdentity = features.Gate{Name: "ObjectLevelWorkloadIdentity",
		Unsupported: "Driftless does not build cloud workload identity"}
	CacheSecretsAndConfigMaps  = features.Gate{Name: "CacheSecretsAndConfigMaps"}
	AdditiveCELDependencyCheck = features.Gate{Name: "AdditiveCELDependencyCheck",
		Unsupported: "not built in Driftless"}
	CancelHealthCheckOnNewRevision = features.Gate{Name: "CancelHealthCheckOnNewRevision",
		Unsupported: "not built in Driftless: a Helm action's wait runs to its timeout"}
	DirectSourceFetch = features.Gate{Name: "DirectSourceFetch",
		Unsupported: "not built in Driftless"}
)

// Gates are the feature gates the helm group knows.
var Gates = []features.Gate{
	AdoptLegacyReleases, AllowDNSLookups, DefaultToRetryOnFailure, DisableChartDigestTracking,
	DisableConfigWatchers, ExternalArtifact, OOMWatch, UseHelm3Defaults,
	ObjectLevelWorkloadIdentity, CacheSecretsAndConfigMaps, AdditiveCELDependencyCheck,
	CancelHealthCheckOnNewRevision, DirectSourceFetch,
}

// warnDeprecatedGates logs a warning for each gate --feature-gates names
// that is accepted without effect: AdoptLegacyReleases, as helm-controller
// since 1.5.
func warnDeprecatedGates(fg features.Values, log logr.Logger) {
	if _, set := fg[AdoptLegacyReleases.Name]; set {
		log.Info("warning: the AdoptLegacyReleases feature gate is deprecated and has no effect; remove it from --feature-gates")
	}
}

// configReader reads the ConfigMaps and Secrets of valuesFrom and
// kubeConfig: from the API server, or, under CacheSecretsAndConfigMaps,
// from a cache of every ConfigMap and Secret the controller watches (more
// memory; the list/watch the controller's role already has). The cache is
// the group's own: the shared one keeps only the labelled objects whose
// changes reconcile (--watch-configs-label-selector), for both groups
// that watch them, and that is left as it is.
func configReader(mgr ctrl.Manager, opts manager.Options) (client.Reader, error) {
	if !opts.FeatureGates.Enabled(CacheSecretsAndConfigMaps) {
		return mgr.GetAPIReader(), nil
	}
	co := cache.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}: {}, &corev1.Secret{}: {},
		},
		// Only the two kinds: a read of any other is an error, not a new
		// informer.
		ReaderFailOnMissingInformer: true,
	}
	if !opts.WatchAllNamespaces {
		co.DefaultNamespaces = map[string]cache.Config{manager.RuntimeNamespace(opts): {}}
	}
	c, err := cache.New(mgr.GetConfig(), co)
	if err != nil {
		return nil, fmt.Errorf("CacheSecretsAndConfigMaps: %w", err)
	}
	for _, o := range []client.Object{&corev1.ConfigMap{}, &corev1.Secret{}} {
		if _, err := c.GetInformer(context.Background(), o); err != nil {
			return nil, fmt.Errorf("CacheSecretsAndConfigMaps: %w", err)
		}
	}
	// Started with the leader's runnables: only the leader reconciles.
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	return c, nil
}

// gates are the helmrelease package's gates from --feature-gates.
func gates(v features.Values) helmrelease.Gates {
	return helmrelease.Gates{
		DefaultToRetryOnFailure:    v.Enabled(DefaultToRetryOnFailure),
		DisableChartDigestTracking: v.Enabled(DisableChartDigestTracking),
		DisableConfigWatchers:      v.Enabled(DisableConfigWatchers),
		UseHelm3Defaults:           v.Enabled(UseHelm3Defaults),
		AllowDNSLookups:            v.Enabled(AllowDNSLookups),
		NoExternalArtifact:         !v.Enabled(ExternalArtifact),
	}
}

type group struct{ opts Options }

func (g *group) setup(mgr ctrl.Manager, deps manager.Deps) error {
	digester, err := release.NewDigester(g.opts.SnapshotDigestAlgo)
	if err != nil {
		return fmt.Errorf("--snapshot-digest-algo: %w", err)
	}
	fg := deps.Options.FeatureGates
	log := deps.Logger.WithName("helm")
	warnDeprecatedGates(fg, log)
	if fg.Enabled(OOMWatch) {
		w, err := manager.NewOOMWatch(g.opts.OOMWatch, log.WithName("oom-watch"))
		if err != nil {
			return err
		}
		if err := mgr.Add(w); err != nil {
			return err
		}
	}
	reader, err := configReader(mgr, deps.Options)
	if err != nil {
		return err
	}
	maxSize := deps.Options.Storage.MaxSize
	if maxSize == 0 {
		maxSize = -1
	}
	fetcher, err := artifact.NewFetcher(artifact.FetcherOptions{
		Retries:         g.opts.HTTPRetry(),
		MaxDownloadSize: maxSize,
		MaxUntarSize:    maxSize,
		SkipLinks:       true,
		// An ExternalArtifact's producer may serve from its own server,
		// allowed by --artifact-servers as for Kustomizations.
		AllowedURLPrefixes: append([]string{deps.Options.Storage.Advertised()}, g.opts.ArtifactServers()...),
	})
	if err != nil {
		return err
	}
	r := &helmrelease.Reconciler{
		Client:                mgr.GetClient(),
		APIReader:             reader,
		Config:                mgr.GetConfig(),
		Fetcher:               fetcher,
		Storage:               deps.Options.Storage.Advertised(),
		Digester:              digester,
		Log:                   log,
		NoCrossNamespaceRefs:  deps.Options.NoCrossNamespaceRefs,
		DefaultServiceAccount: deps.Options.DefaultServiceAccount,
		Kubeconfig:            g.opts.Kubeconfig.Policy(),
		Gates:                 gates(fg),
	}
	// Drift on watch events: the released objects are watched as the
	// controller itself, through informers shared by every release.
	dyn, err := dynamic.NewForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	r.WatchDrift(dyn, mgr.GetRESTMapper(), deps.Options.WatchAllNamespaces)
	// A Helm action cut by a cancelled context leaves its release pending,
	// locked to every later action until the next pass unlocks it by
	// marking it failed; a stop (SIGTERM) lets the passes in flight end,
	// within --graceful-shutdown-timeout.
	rt := deps.Runtime(mgr, "helm-controller")
	rt.Grace = deps.Grace
	return reconcile.Start(context.Background(), mgr, r.Kind(), rt)
}
