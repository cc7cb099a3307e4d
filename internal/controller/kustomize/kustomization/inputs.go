package kustomization

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/kustomize"
	"github.com/driftless/driftless/internal/engine/sops"
	"github.com/driftless/driftless/internal/reconcile"
)

// decryption loads the SOPS keys of spec.decryption and hooks them into the
// build. Without keys, an encrypted object is refused rather than applied.
func (r *Reconciler) decryption(ctx context.Context, obj *kustomizev1.Kustomization, opts *kustomize.Options) error {
	var keys *sops.Keys
	if d := obj.Spec.Decryption; d != nil && d.SecretRef != nil {
		var secret corev1.Secret
		key := types.NamespacedName{Namespace: obj.Namespace, Name: d.SecretRef.Name}
		if err := r.APIReader.Get(ctx, key, &secret); err != nil {
			return reconcile.Failed(meta.BuildFailedReason, "decryption secret '%s': %w", key, err)
		}
		k, err := sops.KeysFromSecret(secret.Data)
		if err != nil {
			return reconcile.Failed(meta.BuildFailedReason, "decryption secret '%s': %w", key, err)
		}
		keys = k
	}
	opts.Decrypt = keys.DecryptObject
	opts.DecryptFile = func(src kustomize.SecretSource) ([]byte, error) {
		return decryptBytes(keys, src)
	}
	return nil
}

// decryptBytes decrypts a secretGenerator source in memory.
func decryptBytes(keys *sops.Keys, src kustomize.SecretSource) ([]byte, error) {
	format := sops.FormatForName(src.Path)
	if src.Env {
		format = sops.FormatForName("x.env")
	}
	out, _, err := keys.DecryptData(src.Path, src.Data, format)
	return out, err
}

// substitution merges spec.postBuild.substitute over the data of the
// substituteFrom ConfigMaps and Secrets, in Flux's order.
func (r *Reconciler) substitution(ctx context.Context, obj *kustomizev1.Kustomization, opts *kustomize.Options) error {
	pb := obj.Spec.PostBuild
	if pb == nil || opts.PostBuild == nil {
		return nil
	}
	var from []map[string]string
	for _, ref := range pb.SubstituteFrom {
		data, err := r.substituteSource(ctx, obj.Namespace, ref.Kind, ref.Name)
		if apierrors.IsNotFound(err) && ref.Optional {
			continue
		}
		if err != nil {
			return reconcile.Failed(meta.BuildFailedReason, "substitute from %s '%s/%s': %w", ref.Kind, obj.Namespace, ref.Name, err)
		}
		from = append(from, data)
	}
	opts.PostBuild.Vars = kustomize.MergeVars(pb.Substitute, from...)
	return nil
}

func (r *Reconciler) substituteSource(ctx context.Context, namespace, kind, name string) (map[string]string, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	switch kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err := r.APIReader.Get(ctx, key, &cm); err != nil {
			return nil, err
		}
		return cm.Data, nil
	case "Secret":
		var s corev1.Secret
		if err := r.APIReader.Get(ctx, key, &s); err != nil {
			return nil, err
		}
		data := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
		return data, nil
	}
	return nil, fmt.Errorf("kind %q is not ConfigMap or Secret", kind)
}
