package helmrelease

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
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
	if st.renderer, err = postrender.New(ctx, obj, postrender.Options{TempDir: r.TempDir, Helm3Defaults: r.Gates.UseHelm3Defaults}); err != nil {
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
