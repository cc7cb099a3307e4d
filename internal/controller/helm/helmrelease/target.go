package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/clientcache"
	"github.com/driftless/driftless/internal/engine/helmdrift"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/kubeconfig"
	"github.com/driftless/driftless/internal/reconcile"
)

// identity is one cluster as one identity: the Helm Target (discovery,
// RESTMapper, OpenAPI, health) every release acting so shares, and its
// drift detector, built on the first drift check.
type identity struct {
	config *rest.Config
	target *helmkube.Target

	detectorOnce sync.Once
	detector     *helmdrift.Detector
	detectorErr  error
}

// drift returns the identity's drift detector.
func (id *identity) drift() (*helmdrift.Detector, error) {
	id.detectorOnce.Do(func() { id.detector, id.detectorErr = helmdrift.NewForConfig(id.config) })
	return id.detector, id.detectorErr
}

// detector is the drift detector of the pass's identity.
func (r *Reconciler) detector(st *State) (*helmdrift.Detector, error) {
	return st.identity.drift()
}

// restConfig is the REST config a HelmRelease releases with: the
// controller's own, or spec.kubeConfig's remote cluster (under the rules
// of internal/engine/kubeconfig, as for Kustomizations), acting as
// spec.serviceAccountName (or --default-service-account) when set, on the
// remote cluster too, as Flux does. Release records (Helm storage) live in
// that cluster; the HelmChart, values and dependencies stay local.
func (r *Reconciler) restConfig(ctx context.Context, obj *helmv2.HelmRelease) (*rest.Config, error) {
	cfg := rest.CopyConfig(r.Config)
	if ref := obj.Spec.KubeConfig; ref != nil {
		remote, err := kubeconfig.Remote(ctx, r.readSecret, r.Config, obj.Namespace, ref, r.Kubeconfig)
		if kubeconfig.IsRefused(err) {
			return nil, reconcile.Stalling(helmv2.InitFailedReason, "spec.kubeConfig: %s", err)
		}
		if err != nil {
			return nil, reconcile.Failed(helmv2.InitFailedReason, "spec.kubeConfig: %w", err)
		}
		// A request to the remote cluster takes at most the release's
		// timeout, and at most kubeconfig.ClientTimeout; Helm's waits
		// watch without one.
		remote.Timeout = min(remote.Timeout, obj.GetTimeout())
		cfg = remote
	}
	sa := obj.Spec.ServiceAccountName
	if sa == "" {
		sa = r.DefaultServiceAccount
	}
	if sa != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", obj.Namespace, sa)}
	}
	return cfg, nil
}

// readSecret reads a kubeconfig Secret straight from the API server.
func (r *Reconciler) readSecret(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	var secret corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &secret); err != nil {
		return nil, err
	}
	return secret.Data, nil
}

// target gets the Helm action configuration of the release, from the
// clients of its identity: built once per identity and shared, in a
// bounded cache, so that a tenant naming ever new ServiceAccounts or
// kubeconfigs replaces clients instead of piling them up. A rotated
// kubeconfig is a new identity (the key digests the credentials).
func (r *Reconciler) target(ctx context.Context, obj *helmv2.HelmRelease, _ *reconcile.Pass, st *State) error {
	cfg, err := r.restConfig(ctx, obj)
	if err != nil {
		return err
	}
	r.identitiesOnce.Do(func() { r.identities = clientcache.New[*identity](r.Identities) })
	id, err := r.identities.Get(clientcache.Key(cfg), func() (*identity, error) {
		t, err := helmkube.NewTarget(cfg, helmkube.TargetOptions{Log: r.Log})
		if err != nil {
			return nil, err
		}
		return &identity{config: cfg, target: t}, nil
	})
	if err != nil {
		return reconcile.Failed(helmv2.InitFailedReason, "failed to build the Kubernetes client of %s: %w", releaseRef(obj), err)
	}
	ac, err := id.target.ActionConfig(helmkube.ActionOptions{
		Namespace:        obj.GetReleaseNamespace(),
		StorageNamespace: obj.GetStorageNamespace(),
		Context:          ctx,
		HealthCheckExprs: obj.Spec.HealthCheckExprs,
	})
	if err != nil {
		return reconcile.Failed(helmv2.InitFailedReason, "failed to initialise Helm for %s: %w", releaseRef(obj), err)
	}
	st.target, st.cfg, st.identity = id.target, ac, id
	if obj.Status.StorageNamespace == "" {
		obj.Status.StorageNamespace = obj.GetStorageNamespace()
	}
	// A storage namespace that changed is recorded once the release kept
	// in the old one is uninstalled (reconcileRelease).
	return nil
}

// cannotReach says why a deleted HelmRelease's remote cluster cannot be
// reached at all (its kubeconfig Secret is gone or refused), or "" when
// the error may pass on a retry.
func cannotReach(obj *helmv2.HelmRelease, err error) string {
	if obj.Spec.KubeConfig == nil {
		return ""
	}
	var stalled *reconcile.StallingError
	if errors.As(err, &stalled) || apierrors.IsNotFound(err) {
		return err.Error()
	}
	return ""
}
