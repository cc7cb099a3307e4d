package helmrelease

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/helmvalues"
	"github.com/driftless/driftless/internal/engine/postrender"
	"github.com/driftless/driftless/internal/reconcile"
)

// composeValues composes valuesFrom and values, and builds the
// post-renderer of the spec.
func (r *Reconciler) composeValues(ctx context.Context, obj *helmv2.HelmRelease, _ *reconcile.Pass, st *State) error {
	values, err := helmvalues.ComposeRelease(ctx, objectReader{r.APIReader, obj.Namespace}, obj)
	if err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "failed to compose values: %w", err)
	}
	digest, err := r.Digester.Values(values)
	if err != nil {
		return reconcile.Stalling(meta.ReconciliationFailedReason, "failed to digest values: %v", err)
	}
	st.values, st.configDigest = values, digest
	if st.renderer, err = postrender.New(ctx, obj, postrender.Options{TempDir: r.TempDir}); err != nil {
		return reconcile.Stalling(meta.ReconciliationFailedReason, "%v", err)
	}
	return nil
}

// objectReader reads the ConfigMaps and Secrets of valuesFrom.
type objectReader struct {
	c  client.Reader
	ns string
}

func (o objectReader) Get(ctx context.Context, kind, name string) (map[string][]byte, bool, error) {
	key := types.NamespacedName{Namespace: o.ns, Name: name}
	switch kind {
	case helmvalues.KindSecret:
		var s corev1.Secret
		if err := o.c.Get(ctx, key, &s); err != nil {
			return nil, false, notFoundIsMissing(err)
		}
		return s.Data, true, nil
	case helmvalues.KindConfigMap:
		var cm corev1.ConfigMap
		if err := o.c.Get(ctx, key, &cm); err != nil {
			return nil, false, notFoundIsMissing(err)
		}
		data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
		for k, v := range cm.BinaryData {
			data[k] = v
		}
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		return data, true, nil
	}
	return nil, false, fmt.Errorf("unsupported kind %s", kind)
}

func notFoundIsMissing(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// target gets the Helm action configuration of the release: the local
// cluster as spec.serviceAccountName (or --default-service-account), one
// shared Target (and discovery) per identity.
func (r *Reconciler) target(ctx context.Context, obj *helmv2.HelmRelease, _ *reconcile.Pass, st *State) error {
	cfg := rest.CopyConfig(r.Config)
	sa := obj.Spec.ServiceAccountName
	if sa == "" {
		sa = r.DefaultServiceAccount
	}
	if sa != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", obj.Namespace, sa)}
	}
	key := cfg.Host + "|" + cfg.Impersonate.UserName
	r.targetsMu.Lock()
	t, ok := r.targets[key]
	if !ok {
		var err error
		if t, err = helmkube.NewTarget(cfg, helmkube.TargetOptions{Log: r.Log}); err != nil {
			r.targetsMu.Unlock()
			return reconcile.Failed(helmv2.InitFailedReason, "failed to build the Kubernetes client of %s: %w", releaseRef(obj), err)
		}
		if r.targets == nil {
			r.targets = map[string]*helmkube.Target{}
		}
		r.targets[key] = t
	}
	r.targetsMu.Unlock()
	ac, err := t.ActionConfig(helmkube.ActionOptions{
		Namespace:        obj.GetReleaseNamespace(),
		StorageNamespace: obj.GetStorageNamespace(),
		Context:          ctx,
		HealthCheckExprs: obj.Spec.HealthCheckExprs,
	})
	if err != nil {
		return reconcile.Failed(helmv2.InitFailedReason, "failed to initialise Helm for %s: %w", releaseRef(obj), err)
	}
	st.target, st.cfg, st.restConfig, st.targetKey = t, ac, cfg, key
	if obj.Status.StorageNamespace == "" {
		obj.Status.StorageNamespace = obj.GetStorageNamespace()
	}
	// A storage namespace that changed is recorded once the release kept
	// in the old one is uninstalled (reconcileRelease).
	return nil
}
