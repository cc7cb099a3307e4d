package kustomization

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/clientcache"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/engine/kubeconfig"
	"github.com/driftless/driftless/internal/reconcile"
)

// targetConfig returns the REST config a Kustomization applies with: the
// controller's own, or a remote cluster's from kubeConfig.secretRef, acting
// as spec.serviceAccountName (or --default-service-account) when set.
func (r *Reconciler) targetConfig(ctx context.Context, obj *kustomizev1.Kustomization) (*rest.Config, error) {
	cfg := rest.CopyConfig(r.Config)
	if ref := obj.Spec.KubeConfig; ref != nil {
		remote, err := kubeconfig.Remote(ctx, r.readSecret, r.Config, obj.Namespace, ref,
			kubeconfig.Policy{AllowExec: r.InsecureKubeconfigExec, AllowInsecureTLS: r.InsecureKubeconfigTLS})
		if kubeconfig.IsRefused(err) {
			return nil, reconcile.Stalling(meta.ReconciliationFailedReason, "%s", err)
		}
		if err != nil {
			return nil, reconcile.Failed(meta.ReconciliationFailedReason, "%w", err)
		}
		cfg = remote
	}
	if sa := r.serviceAccount(obj); sa != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", obj.Namespace, sa)}
	}
	return cfg, nil
}

// serviceAccount is the account the Kustomization acts as, "" for the controller itself.
func (r *Reconciler) serviceAccount(obj *kustomizev1.Kustomization) string {
	if obj.Spec.ServiceAccountName != "" {
		return obj.Spec.ServiceAccountName
	}
	return r.DefaultServiceAccount
}

// readSecret reads a kubeconfig Secret straight from the API server.
func (r *Reconciler) readSecret(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	var secret corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &secret); err != nil {
		return nil, err
	}
	return secret.Data, nil
}

// target is the cluster a Kustomization applies to, as the identity it acts as.
type target struct {
	apply *apply.Manager
	// health reads the readiness of the objects this Kustomization applied
	// (wait: true).
	health *health.Checker
	// listed reads the objects spec.healthChecks names, which the
	// Kustomization did not apply: as the identity it acts as, so that a
	// tenant cannot read what its ServiceAccount may not.
	listed *health.Checker
}

// target returns the apply manager and health checkers for obj. Clients are
// built once per identity and reused: building one per reconciliation would
// open new connections every time.
func (r *Reconciler) target(ctx context.Context, obj *kustomizev1.Kustomization) (*target, error) {
	cfg, err := r.targetConfig(ctx, obj)
	if err != nil {
		return nil, err
	}
	remote := obj.Spec.KubeConfig != nil
	if remote {
		// A request to a remote cluster takes at most the Kustomization's
		// timeout, and at most kubeconfig.ClientTimeout.
		cfg.Timeout = min(cfg.Timeout, obj.GetTimeout())
	}
	// Keyed on the credentials too: a rotated kubeconfig gets new clients.
	// The cache is bounded: a tenant naming ever new identities replaces
	// clients, it does not pile them up.
	r.targetsOnce.Do(func() { r.targets = clientcache.New[*target](clientcache.Options{}) })
	return r.targets.Get(clientcache.Key(cfg), func() (*target, error) { return r.newTarget(cfg, remote) })
}

// newTarget builds the clients of one identity.
func (r *Reconciler) newTarget(cfg *rest.Config, remote bool) (*target, error) {
	key := cfg.Host + " as " + cfg.Impersonate.UserName
	dyn, err := apply.NewKindClient(cfg)
	if err != nil {
		return nil, reconcile.Failed(meta.ReconciliationFailedReason, "client for %s: %w", key, err)
	}
	t := &target{}
	switch {
	case remote:
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, reconcile.Failed(meta.ReconciliationFailedReason, "discovery client: %w", err)
		}
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		t.apply = apply.New(dyn, mapper, Owner)
		// Watches last longer than any one request: no client timeout.
		watchCfg := rest.CopyConfig(cfg)
		watchCfg.Timeout = 0
		watcher, err := apply.NewKindClient(watchCfg)
		if err != nil {
			return nil, reconcile.Failed(meta.ReconciliationFailedReason, "client for %s: %w", key, err)
		}
		t.health = health.NewChecker(health.NewCache(watcher, r.Log), mapper, health.CheckerOptions{Log: r.Log})
		t.listed = t.health
	case cfg.Impersonate.UserName != "":
		// What the identity applied carries the owner labels and is read
		// through the informers every Kustomization shares; anything else
		// through informers of its own identity.
		t.apply = apply.New(dyn, r.Mapper, Owner)
		t.health = r.Health
		t.listed = health.NewChecker(health.NewCache(dyn, r.Log), r.Mapper, health.CheckerOptions{Log: r.Log})
	default:
		// The controller's own identity: the shared informers serve both.
		t.apply = apply.New(dyn, r.Mapper, Owner)
		t.health, t.listed = r.Health, r.Health
	}
	return t, nil
}
