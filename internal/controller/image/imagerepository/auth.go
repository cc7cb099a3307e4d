package imagerepository

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// CloudIdentityUnsupported is the stall message of a cloud provider without
// credentials from a Secret: workload identity is not built.
const CloudIdentityUnsupported = "cloud identity is not supported yet; use secretRef or serviceAccountName"

// Credentials are the registry credentials an ImageRepository names, in
// the order they are tried: spec.secretRef, then the imagePullSecrets of
// spec.serviceAccountName. Each remembers the Secret it came from, so a
// refusal can name it; no value ever reaches a message.
type Credentials struct {
	sources []credentialSource
}

type credentialSource struct {
	origin string
	kc     authn.Keychain
}

// Resolve implements authn.Keychain: the first source with an entry for
// the registry wins.
func (c *Credentials) Resolve(res authn.Resource) (authn.Authenticator, error) {
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

// origin names the Secret whose credentials apply to res, "" for none.
func (c *Credentials) origin(res authn.Resource) string {
	for _, s := range c.sources {
		if a, err := s.kc.Resolve(res); err == nil && a != authn.Anonymous {
			return s.origin
		}
	}
	return ""
}

func (c *Credentials) origins() string {
	o := make([]string, 0, len(c.sources))
	for _, s := range c.sources {
		o = append(o, s.origin)
	}
	return strings.Join(o, ", ")
}

// ExplainRefusal adds to a 401 or 403 of the registry which Secret the
// credentials came from, or why none were sent.
func (c *Credentials) ExplainRefusal(err error, repo oci.Repository, res authn.Resource) error {
	var e *oci.Error
	if c == nil || !errors.As(err, &e) || !(errors.Is(e.Kind, oci.ErrUnauthorized) || errors.Is(e.Kind, oci.ErrForbidden)) {
		return err
	}
	switch {
	case e.CredentialsSent:
		return fmt.Errorf("%w; the credentials sent came from %s", err, c.origin(res))
	case len(c.sources) == 0:
		return fmt.Errorf("%w; neither spec.secretRef nor the imagePullSecrets of spec.serviceAccountName give credentials", err)
	case len(c.sources) == 1:
		return fmt.Errorf("%w; %s has no entry for registry %s", err, c.origins(), repo.Registry)
	}
	return fmt.Errorf("%w; none of %s has an entry for registry %s", err, c.origins(), repo.Registry)
}

// Auth reads what an ImageRepository names to reach its registry:
// credentials, TLS material and proxy. The ImagePolicy controller uses it
// too, to ask the registry for a tag's digest as the repository would.
type Auth struct {
	// Secrets reads Secrets and ServiceAccounts directly from the API
	// server (uncached).
	Secrets client.Reader
}

// ClientOptions turns the repository's spec and its Secrets into registry
// client options. A Secret that cannot be read or used is an error to retry
// (it may be created or fixed); a cloud provider without credentials
// stalls.
func (a Auth) ClientOptions(ctx context.Context, obj *imagev1.ImageRepository) (oci.Options, *Credentials, error) {
	opts := oci.Options{Insecure: obj.Spec.Insecure, Timeout: obj.GetTimeout()}
	creds, err := a.credentials(ctx, obj)
	if err != nil {
		return opts, nil, err
	}
	if p := obj.Spec.Provider; p != "" && p != imagev1.GenericRegistryProvider && len(creds.sources) == 0 {
		return opts, nil, reconcile.Stalling(imagev1.AuthenticationFailedReason,
			"provider '%s' for '%s': %s", p, obj.Spec.Image, CloudIdentityUnsupported)
	}
	if len(creds.sources) > 0 {
		opts.Keychain = creds
	}
	if ref := obj.Spec.CertSecretRef; ref != nil {
		secret, err := a.secret(ctx, obj.Namespace, ref.Name)
		if err != nil {
			return opts, nil, fmt.Errorf("spec.certSecretRef: %w", err)
		}
		if opts.TLS, err = oci.TLSConfigFromSecret(tlsData(secret.Data)); err != nil {
			return opts, nil, fmt.Errorf("invalid TLS secret '%s/%s' (spec.certSecretRef): %w", obj.Namespace, ref.Name, err)
		}
	}
	if ref := obj.Spec.ProxySecretRef; ref != nil {
		secret, err := a.secret(ctx, obj.Namespace, ref.Name)
		if err != nil {
			return opts, nil, fmt.Errorf("spec.proxySecretRef: %w", err)
		}
		if opts.Proxy, err = oci.ProxyFromSecret(secret.Data); err != nil {
			return opts, nil, fmt.Errorf("invalid proxy secret '%s/%s' (spec.proxySecretRef): %w", obj.Namespace, ref.Name, err)
		}
	}
	return opts, creds, nil
}

// deprecatedTLSKeys are the older names of a certSecretRef's keys that
// ImageRepository still accepts, with the names they stand for.
var deprecatedTLSKeys = map[string]string{"caFile": oci.CAKey, "certFile": oci.CertKey, "keyFile": oci.KeyKey}

// tlsData is the certSecretRef's data with the deprecated key names read
// as the current ones; a current key wins over its deprecated name.
func tlsData(data map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(data))
	for k, v := range data {
		out[k] = v
	}
	for old, cur := range deprecatedTLSKeys {
		if v, ok := data[old]; ok {
			if _, has := data[cur]; !has {
				out[cur] = v
			}
			delete(out, old)
		}
	}
	return out
}

// credentials reads the docker config Secrets the object names.
func (a Auth) credentials(ctx context.Context, obj *imagev1.ImageRepository) (*Credentials, error) {
	c := &Credentials{}
	add := func(name, why string) error {
		origin := fmt.Sprintf("Secret '%s/%s' (%s)", obj.Namespace, name, why)
		secret, err := a.secret(ctx, obj.Namespace, name)
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
		if err := a.Secrets.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: sa}, &acct); err != nil {
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

func (a Auth) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := a.Secrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, fmt.Errorf("failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return &s, nil
}
