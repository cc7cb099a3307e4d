// Package image wires the "image-reflector" controller of
// driftless-controller: the tag store under --image-storage-path and the
// ImageRepository and ImagePolicy controllers that share it.
package image

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/controller/image/imagepolicy"
	"github.com/driftless/driftless/internal/controller/image/imagerepository"
	"github.com/driftless/driftless/internal/engine/tagstore"
	"github.com/driftless/driftless/internal/features"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// ReflectorName is the group's name as --controllers spells it.
const ReflectorName = "image-reflector"

// DefaultStoragePath is the default --image-storage-path. It must not lie
// under --storage-path (/data in the install manifests): the artifact
// server publishes every file there, and its garbage collection owns it.
const DefaultStoragePath = "/images"

// DefaultTagCacheBytes bounds the tags kept in memory between evaluations,
// whatever the number of repositories: the rest stays on disk. 2 MiB holds
// about ninety lists of a thousand tags, or eight of ten thousand; every
// cached byte counts twice in the peak, as the garbage collector lets the
// heap grow to twice what is live.
const DefaultTagCacheBytes = 2 << 20

// ReflectorOptions are the image-reflector group's own flags.
type ReflectorOptions struct {
	// StoragePath is where the scanned tags are kept, one file per
	// ImageRepository (--image-storage-path).
	StoragePath string
	// TagCacheBytes bounds the in-memory cache of tag lists; 0 turns it
	// off.
	TagCacheBytes int
}

// BindFlags registers the group's flags on fs with their defaults.
func (o *ReflectorOptions) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.StoragePath, "image-storage-path", DefaultStoragePath,
		"directory of the tags the ImageRepositories scanned, one file per repository (not served, unlike --storage-path)")
	o.TagCacheBytes = DefaultTagCacheBytes
}

// DefaultReflectorOptions are the flags' defaults.
func DefaultReflectorOptions() ReflectorOptions {
	var o ReflectorOptions
	o.BindFlags(pflag.NewFlagSet(ReflectorName, pflag.ContinueOnError))
	return o
}

// ReflectorGates are image-reflector-controller's feature gates with Flux's
// defaults. FluxStorage (Flux's file store instead of Badger) is what
// Driftless always does, so turning it on changes nothing.
var ReflectorGates = []features.Gate{
	{Name: "CacheSecretsAndConfigMaps"},
	{Name: "FluxStorage"},
	{Name: "ObjectLevelWorkloadIdentity", Unsupported: "Driftless does not build cloud workload identity"},
}

// Reflector is the image-reflector controller as the manager selects it,
// with its flags at their defaults until the command line sets them.
func Reflector() manager.Controller { return NewReflector(DefaultReflectorOptions()) }

// NewReflector is the image-reflector controller with the given options;
// its Flags bind the command line to them.
func NewReflector(o ReflectorOptions) manager.Controller {
	g := &reflector{opts: o}
	return manager.Controller{
		Name:    ReflectorName,
		Objects: []client.Object{&imagev1.ImageRepository{}, &imagev1.ImagePolicy{}},
		Flags:   g.opts.BindFlags,
		Setup:   g.setup,
		Gates:   ReflectorGates,
	}
}

type reflector struct{ opts ReflectorOptions }

func (g *reflector) setup(mgr ctrl.Manager, deps manager.Deps) error {
	if err := checkStoragePaths(g.opts.StoragePath, deps.Options.Storage.Path); err != nil {
		return err
	}
	store, err := tagstore.New(g.opts.StoragePath, g.opts.TagCacheBytes)
	if err != nil {
		return fmt.Errorf("image tag store: %w", err)
	}
	auth := imagerepository.Auth{Secrets: mgr.GetAPIReader()}
	rt := deps.Runtime(mgr, "image-reflector-controller")
	ir := &imagerepository.Reconciler{Client: mgr.GetClient(), Auth: auth, Store: store}
	if err := reconcile.Start(context.Background(), mgr, ir.Kind(), rt); err != nil {
		return err
	}
	ip := &imagepolicy.Reconciler{
		Client:               mgr.GetClient(),
		APIReader:            mgr.GetAPIReader(),
		Auth:                 auth,
		Store:                store,
		NoCrossNamespaceRefs: deps.Options.NoCrossNamespaceRefs,
		Rescan:               ir.Rescan,
		Evaluations:          make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	return reconcile.Start(context.Background(), mgr, ip.Kind(), rt)
}

// checkStoragePaths refuses a tag store inside the artifact storage (or the
// other way round): the artifact server would publish the tag lists of
// private registries, and the artifact garbage collection could remove
// them.
func checkStoragePaths(images, artifacts string) error {
	if images == "" {
		return fmt.Errorf("--image-storage-path is empty")
	}
	if artifacts == "" {
		return nil
	}
	a, err := filepath.Abs(images)
	if err != nil {
		return fmt.Errorf("--image-storage-path %q: %w", images, err)
	}
	b, err := filepath.Abs(artifacts)
	if err != nil {
		return fmt.Errorf("--storage-path %q: %w", artifacts, err)
	}
	if within(a, b) || within(b, a) {
		return fmt.Errorf("--image-storage-path %s and --storage-path %s overlap: the artifact server publishes every file "+
			"under --storage-path, so the tag lists need a directory of their own", images, artifacts)
	}
	return nil
}

// within tells whether path is dir or lies beneath it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
