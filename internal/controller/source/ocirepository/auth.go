package ocirepository

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/registryauth"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// credentials reads the docker config Secrets the object names.
func (r *Reconciler) credentials(ctx context.Context, obj *sourcev1.OCIRepository) (*registryauth.Credentials, error) {
	secretRef := ""
	if ref := obj.Spec.SecretRef; ref != nil {
		secretRef = ref.Name
	}
	return registryauth.Read(ctx, r.Secrets, obj.Namespace, secretRef, obj.Spec.ServiceAccountName)
}

// checkProvider refuses a cloud provider without static credentials: cloud
// workload identity is not built, and only credentials from Secrets can
// stand in for it.
func checkProvider(obj *sourcev1.OCIRepository, c *registryauth.Credentials) error {
	p := obj.Spec.Provider
	if p == "" || p == sourcev1.GenericOCIProvider || !c.Empty() {
		return nil
	}
	where := "no spec.secretRef is set"
	if sa := obj.Spec.ServiceAccountName; sa != "" {
		where = fmt.Sprintf("no spec.secretRef is set and service account '%s' has no imagePullSecrets", sa)
	}
	err := fmt.Errorf("%s for '%s', and %s; "+
		"give the registry credentials in a docker-config Secret named by spec.secretRef (flux create secret oci)",
		oci.CloudProviderUnsupported(p), obj.Spec.URL, where)
	return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidProviderConfigurationReason, err)
}

// clientOptions turns the spec and its Secrets into registry client
// options. A Secret that cannot be read or used is an error to retry (it
// may be created or fixed); a cloud provider without credentials stalls.
func (r *Reconciler) clientOptions(ctx context.Context, obj *sourcev1.OCIRepository) (oci.Options, *registryauth.Credentials, error) {
	opts := oci.Options{Insecure: obj.Spec.Insecure, Timeout: oci.DefaultTimeout}
	if t := obj.Spec.Timeout; t != nil && t.Duration > 0 {
		opts.Timeout = t.Duration
	}
	creds, err := r.credentials(ctx, obj)
	if err != nil {
		return opts, nil, err
	}
	if err := checkProvider(obj, creds); err != nil {
		return opts, nil, err
	}
	if !creds.Empty() {
		opts.Keychain = creds
	}
	if ref := obj.Spec.CertSecretRef; ref != nil {
		secret, err := r.secret(ctx, obj.Namespace, ref.Name)
		if err != nil {
			return opts, nil, fmt.Errorf("spec.certSecretRef: %w", err)
		}
		if opts.TLS, err = oci.TLSConfigFromSecret(secret.Data); err != nil {
			return opts, nil, fmt.Errorf("invalid TLS secret '%s/%s' (spec.certSecretRef): %w", obj.Namespace, ref.Name, err)
		}
	}
	if ref := obj.Spec.ProxySecretRef; ref != nil {
		secret, err := r.secret(ctx, obj.Namespace, ref.Name)
		if err != nil {
			return opts, nil, fmt.Errorf("spec.proxySecretRef: %w", err)
		}
		if opts.Proxy, err = oci.ProxyFromSecret(secret.Data); err != nil {
			return opts, nil, fmt.Errorf("invalid proxy secret '%s/%s' (spec.proxySecretRef): %w", obj.Namespace, ref.Name, err)
		}
	}
	return opts, creds, nil
}

func (r *Reconciler) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return registryauth.Secret(ctx, r.Secrets, namespace, name)
}

// explainRefusal adds to a 401 or 403 which Secret the credentials came
// from, or why none were sent.
func (p *Pull) explainRefusal(err error) error {
	if p.creds == nil {
		return err
	}
	res, rerr := name.NewRepository(p.repo.Registry+"/"+p.repo.Path, p.client.NameOptions()...)
	if rerr != nil {
		return err
	}
	return p.creds.ExplainRefusal(err, p.repo.Registry, res)
}
