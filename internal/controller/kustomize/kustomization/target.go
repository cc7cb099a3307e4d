package kustomization

import (
	"context"
	"crypto/sha256"
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
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/reconcile"
)

// Keys of a kubeConfig.secretRef Secret tried when spec.kubeConfig.secretRef.key is empty.
var kubeconfigKeys = []string{"value", "value.yaml"}

// targetConfig returns the REST config a Kustomization applies with: the
// controller's own, or a remote cluster's from kubeConfig.secretRef, acting
// as spec.serviceAccountName (or --default-service-account) when set.
func (r *Reconciler) targetConfig(ctx context.Context, obj *kustomizev1.Kustomization) (*rest.Config, error) {
	cfg := rest.CopyConfig(r.Config)
	if ref := obj.Spec.KubeConfig; ref != nil {
		if ref.ConfigMapRef != nil {
			return nil, reconcile.Stalling(meta.ReconciliationFailedReason,
				"kubeConfig.configMapRef (cloud provider workload identity) is not supported yet; use kubeConfig.secretRef")
		}
		remote, err := r.remoteConfig(ctx, obj.Namespace, ref.SecretRef)
		if err != nil {
			return nil, err
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

func (r *Reconciler) remoteConfig(ctx context.Context, namespace string, ref *meta.SecretKeyReference) (*rest.Config, error) {
	var secret corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, &secret); err != nil {
		return nil, reconcile.Failed(meta.ReconciliationFailedReason, "get kubeconfig secret '%s/%s': %w", namespace, ref.Name, err)
	}
	keys := kubeconfigKeys
	if ref.Key != "" {
		keys = []string{ref.Key}
	}
	var data []byte
	for _, k := range keys {
		if v, ok := secret.Data[k]; ok {
			data = v
			break
		}
	}
	if data == nil {
		return nil, reconcile.Stalling(meta.ReconciliationFailedReason,
			"kubeconfig secret '%s/%s' has no key %v", namespace, ref.Name, keys)
	}
	cfg, err := restConfigFromKubeconfig(data, kubeconfigPolicy{AllowExec: r.InsecureKubeconfigExec, AllowInsecureTLS: r.InsecureKubeconfigTLS})
	if err != nil {
		return nil, reconcile.Stalling(meta.ReconciliationFailedReason, "kubeconfig secret '%s/%s': %v", namespace, ref.Name, err)
	}
	cfg.QPS, cfg.Burst = r.Config.QPS, r.Config.Burst
	return cfg, nil
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
	key := cfg.Host + "|" + cfg.Impersonate.UserName
	if remote {
		// A request to a remote cluster takes at most the Kustomization's
		// timeout, and at most remoteClientTimeout.
		cfg.Timeout = min(cfg.Timeout, obj.GetTimeout())
		// Keyed on the credentials too: a rotated kubeconfig gets new clients.
		sum := sha256.New()
		for _, b := range [][]byte{[]byte(cfg.BearerToken), cfg.CertData, cfg.KeyData, cfg.CAData, []byte(cfg.Timeout.String())} {
			sum.Write(b)
			sum.Write([]byte{0})
		}
		key += fmt.Sprintf("|%x", sum.Sum(nil))
	}
	if t, ok := r.targets.Load(key); ok {
		return t.(*target), nil
	}
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
	actual, _ := r.targets.LoadOrStore(key, t)
	return actual.(*target), nil
}
