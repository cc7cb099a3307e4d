package kustomization

import (
	"context"

	corev1 "k8s.io/api/core/v1"
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

// substitution sets the post-build variables: spec.postBuild.substitute
// over the data of the substituteFrom ConfigMaps and Secrets, read live, in
// Flux's order (kustomize.LoadVars, which `flux build` and `flux debug`
// share).
func (r *Reconciler) substitution(ctx context.Context, obj *kustomizev1.Kustomization, opts *kustomize.Options) error {
	pb := obj.Spec.PostBuild
	if pb == nil || opts.PostBuild == nil {
		return nil
	}
	get := func(ctx context.Context, key types.NamespacedName, o kustomize.Object) error {
		return r.APIReader.Get(ctx, key, o)
	}
	vars, err := kustomize.LoadVars(ctx, obj.Namespace, pb, get)
	if err != nil {
		return reconcile.Failed(meta.BuildFailedReason, "%w", err)
	}
	opts.PostBuild.Vars = vars
	return nil
}
