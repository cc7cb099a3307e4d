// Package sourcewatcher wires the "source-watcher" controller group of
// driftless-controller: ArtifactGenerators, which turn the artifacts of
// sources into new ones published as ExternalArtifacts, written into the
// process's artifact storage and served by its artifact server.
package sourcewatcher

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/controller/artifactstore"
	"github.com/driftless/driftless/internal/controller/names"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/controller/sourcewatcher/artifactgenerator"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Gates are source-watcher's feature gates with Flux's defaults.
var Gates = []features.Gate{
	{Name: "DirectSourceFetch", Unsupported: "not built in Driftless: sources are read from the shared cache"},
}

// group holds the flags the group reads: --artifact-servers and
// --http-retry, shared with the kustomize and helm groups (the servers
// besides --storage-adv-addr that sources' artifacts may come from:
// source-controller's, when source-watcher runs in its own Deployment).
type group struct {
	fetch sourceref.FetchFlags
}

// Controller is the source-watcher group as the manager selects it.
func Controller() manager.Controller {
	g := &group{}
	return manager.Controller{
		Name:    names.SourceWatcher,
		Objects: []client.Object{&swv1.ArtifactGenerator{}},
		Flags:   g.fetch.Bind,
		Gates:   Gates,
		Setup:   g.setup,
	}
}

func (g *group) setup(mgr ctrl.Manager, deps manager.Deps) error {
	storage, err := artifactstore.For(mgr, deps.Options)
	if err != nil {
		return err
	}
	maxSize := deps.Options.Storage.MaxSize
	if maxSize == 0 {
		maxSize = -1 // the flag's 0 is no limit, the fetcher's is its default
	}
	fetcher, err := artifact.NewFetcher(artifact.FetcherOptions{
		Retries:            g.fetch.HTTPRetry(),
		MaxDownloadSize:    maxSize,
		MaxUntarSize:       maxSize,
		AllowedURLPrefixes: append([]string{deps.Options.Storage.Advertised()}, g.fetch.ArtifactServers()...),
	})
	if err != nil {
		return err
	}
	r := &artifactgenerator.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Storage:   storage,
		Unpacker: &sourceref.Unpacker{
			Fetcher:  fetcher,
			Unpacked: artifact.NewUnpacked(fetcher, "", 10*time.Second),
			Storage:  deps.Options.Storage.Advertised(),
		},
		NoCrossNamespaceRefs: deps.Options.NoCrossNamespaceRefs,
		MaxExtractSize:       deps.Options.Storage.MaxSize,
	}
	return reconcile.Start(context.Background(), mgr, r.Kind(), deps.Runtime(mgr, names.SourceWatcher))
}
