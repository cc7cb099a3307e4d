// Package helm wires the "helm" controller group of driftless-controller:
// its flags and the HelmRelease controller.
package helm

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/client-go/dynamic"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/controller/helm/helmrelease"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/kubeconfig"
	"github.com/driftless/driftless/internal/engine/release"
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
	// artifactServers is --artifact-servers: the servers besides the
	// storage server that chart artifacts (an ExternalArtifact's) may come
	// from. The kustomize group's flag when it registered it first.
	artifactServers *pflag.Flag
}

// artifactServersFlag is the flag naming the extra artifact servers.
const artifactServersFlag = "artifact-servers"

// ArtifactServers are the servers --artifact-servers names.
func (o *Options) ArtifactServers() []string {
	if o.artifactServers == nil {
		return nil
	}
	if v, ok := o.artifactServers.Value.(pflag.SliceValue); ok {
		return v.GetSlice()
	}
	return nil
}

// chartRetries is the number of retries of a chart artifact download
// (Flux's --http-retry default; the flag itself belongs to the kustomize
// group, which registers it first in the one process).
const chartRetries = 9

// BindFlags registers the helm controller's own flags on fs with their
// defaults, Flux's names.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	o.Kubeconfig.Bind(fs)
	if fs.Lookup(artifactServersFlag) == nil {
		fs.StringSlice(artifactServersFlag, nil, "servers (host[:port] or URL) artifacts may be downloaded from besides --storage-adv-addr; a source status naming any other is refused")
	}
	o.artifactServers = fs.Lookup(artifactServersFlag)
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
		Setup: g.setup,
	}
}

type group struct{ opts Options }

func (g *group) setup(mgr ctrl.Manager, deps manager.Deps) error {
	digester, err := release.NewDigester(g.opts.SnapshotDigestAlgo)
	if err != nil {
		return fmt.Errorf("--snapshot-digest-algo: %w", err)
	}
	maxSize := deps.Options.Storage.MaxSize
	if maxSize == 0 {
		maxSize = -1
	}
	fetcher, err := artifact.NewFetcher(artifact.FetcherOptions{
		Retries:         chartRetries,
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
		APIReader:             mgr.GetAPIReader(),
		Config:                mgr.GetConfig(),
		Fetcher:               fetcher,
		Storage:               deps.Options.Storage.Advertised(),
		Digester:              digester,
		Log:                   deps.Logger.WithName("helm"),
		NoCrossNamespaceRefs:  deps.Options.NoCrossNamespaceRefs,
		DefaultServiceAccount: deps.Options.DefaultServiceAccount,
		Kubeconfig:            g.opts.Kubeconfig.Policy(),
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
