// Package kustomization reconciles Kustomization objects: it fetches the
// source artifact, waits for its dependencies, builds the path with
// kustomize, substitutes and decrypts, applies server-side as the
// configured identity, prunes what left the source, and waits for the
// applied objects to become ready, from watch events rather than polling.
package kustomization

import (
	"sync"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/controller/dependency"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/clientcache"
	"github.com/driftless/driftless/internal/engine/health"
)

// Reconciler holds what every reconciliation of a Kustomization uses.
type Reconciler struct {
	// Client reads Flux objects through the shared cache.
	Client client.Client
	// APIReader reads Secrets and ConfigMaps directly, so they are not cached.
	APIReader client.Reader
	// Config is the controller's own connection to its cluster.
	Config *rest.Config
	// Mapper maps kinds to resources on the controller's cluster, shared by
	// every Kustomization applying there.
	Mapper apimeta.ResettableRESTMapper
	// Health waits for readiness through informers shared by every
	// Kustomization applying to the controller's cluster.
	Health *health.Checker
	// Fetcher downloads and verifies source artifacts.
	Fetcher *artifact.Fetcher
	// Storage is the storage server's advertised address; an
	// ExternalArtifact filed there must be filed under its own name.
	Storage string
	// NoExternalArtifact is --feature-gates=ExternalArtifact=false: an
	// ExternalArtifact sourceRef stalls naming the gate.
	NoExternalArtifact bool
	// NoConfigWatchers is DisableConfigWatchers: labelled ConfigMaps and
	// Secrets are read at the next pass only.
	NoConfigWatchers bool
	Log              logr.Logger
	// TempDir is where artifacts are unpacked; "" means the system default.
	TempDir string
	// Unpacked, when set, shares unpacked artifacts between the
	// Kustomizations of one source revision; nil unpacks one per
	// reconciliation with Fetcher.
	Unpacked *artifact.Unpacked

	// NoCrossNamespaceRefs refuses sources and dependencies in other namespaces.
	NoCrossNamespaceRefs bool
	// NoRemoteBases refuses kustomize resources fetched from URLs.
	NoRemoteBases bool
	// DefaultServiceAccount is impersonated when spec.serviceAccountName is empty.
	DefaultServiceAccount string
	// InsecureKubeconfigExec and InsecureKubeconfigTLS allow remote
	// kubeconfigs with exec plugins or without TLS verification.
	InsecureKubeconfigExec bool
	InsecureKubeconfigTLS  bool
	// OverrideManagers are field managers whose edits are reverted too.
	OverrideManagers []string
	// ConcurrentSSA is the number of server-side dry-runs run at once.
	ConcurrentSSA int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// targets are the clients per identity (clientcache.Key), made on first use.
	targets     *clientcache.Cache[*target]
	targetsOnce sync.Once
	readyExprs  dependency.Expressions
	inflight    sync.Map // namespace/name → *inflightWait
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
