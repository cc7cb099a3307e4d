package ocirepository

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// credentials are the registry credentials an OCIRepository names, in the
// order they are tried: spec.secretRef, then the imagePullSecrets of
// spec.serviceAccountName. Each keeps where it came from, so that a refusal
// can say which Secret was sent, never what it holds.
type credentials struct {
	sources []credentialSource
}

type credentialSource struct {
	// origin names the Secret and why it was read.
	origin string
	kc     authn.Keychain
}

// Resolve returns the first source's credentials for the resource.
func (c *credentials) Resolve(res authn.Resource) (authn.Authenticator, error) {
	for _, s := range c.sources {
		a, err := s.kc.Resolve(res)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.origin, err)
		}
		if a != authn.Anonymous {
			return a, nil
		}
	}
	return authn.Anonymous, nil
}

// from names the Secret whose credentials apply to res, "" for none.
func (c *credentials) from(res authn.Resource) string {
	for _, s := range c.sources {
		if a, err := s.kc.Resolve(res); err == nil && a != authn.Anonymous {
			return s.origin
		}
	}
	return ""
}

func (c *credentials) origins() string {
	var o []string
	for _, s := range c.sources {
		o = append(o, s.origin)
	}
	return strings.Join(o, ", ")
}

// credentials reads the docker config Secrets the object names.
func (r *Reconciler) credentials(ctx context.Context, obj *sourcev1.OCIRepository) (*credentials, error) {
	c := &credentials{}
	add := func(name, why string) error {
		origin := fmt.Sprintf("Secret '%s/%s' (%s)", obj.Namespace, name, why)
		secret, err := r.secret(ctx, obj.Namespace, name)
		if err != nil {
			return fmt.Errorf("%s: %w", why, err)
		}
		kc, err := oci.KeychainFromDockerConfig(secret.Data)
		if err != nil {
			return fmt.Errorf("invalid %s: %w", origin, err)
		}
		c.sources = append(c.sources, credentialSource{origin: origin, kc: kc})
		return nil
	}
	if ref := obj.Spec.SecretRef; ref != nil {
		if err := add(ref.Name, "spec.secretRef"); err != nil {
			return nil, err
		}
	}
	if sa := obj.Spec.ServiceAccountName; sa != "" {
		var acct corev1.ServiceAccount
		if err := r.Secrets.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: sa}, &acct); err != nil {
			return nil, fmt.Errorf("failed to get service account '%s/%s' (spec.serviceAccountName): %w", obj.Namespace, sa, err)
		}
		for _, ps := range acct.ImagePullSecrets {
			if err := add(ps.Name, fmt.Sprintf("imagePullSecrets of service account '%s'", sa)); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// checkProvider refuses a cloud provider without static credentials: cloud
// workload identity is not built, and only credentials from Secrets can
// stand in for it.
func checkProvider(obj *sourcev1.OCIRepository, c *credentials) error {
	p := obj.Spec.Provider
	if p == "" || p == sourcev1.GenericOCIProvider || len(c.sources) > 0 {
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
func (r *Reconciler) clientOptions(ctx context.Context, obj *sourcev1.OCIRepository) (oci.Options, *credentials, error) {
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
	if len(creds.sources) > 0 {
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
	var s corev1.Secret
	if err := r.Secrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, fmt.Errorf("failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return &s, nil
}

// explainRefusal adds to a 401 or 403 which Secret the credentials came
// from, or why none were sent.
func (p *Pull) explainRefusal(err error) error {
	var e *oci.Error
	if !errors.As(err, &e) || !(errors.Is(e.Kind, oci.ErrUnauthorized) || errors.Is(e.Kind, oci.ErrForbidden)) || p.creds == nil {
		return err
	}
	res, rerr := name.NewRepository(p.repo.Registry+"/"+p.repo.Path, p.client.NameOptions()...)
	switch {
	case rerr != nil:
		return err
	case e.CredentialsSent:
		return fmt.Errorf("%w; the credentials sent came from %s", err, p.creds.from(res))
	case len(p.creds.sources) == 0:
		return fmt.Errorf("%w; neither spec.secretRef nor the imagePullSecrets of spec.serviceAccountName give credentials", err)
	}
	if len(p.creds.sources) == 1 {
		return fmt.Errorf("%w; %s has no entry for registry %s", err, p.creds.origins(), p.repo.Registry)
	}
	return fmt.Errorf("%w; none of %s has an entry for registry %s", err, p.creds.origins(), p.repo.Registry)
}
