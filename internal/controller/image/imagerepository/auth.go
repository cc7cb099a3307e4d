package imagerepository

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/controller/registryauth"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// CloudIdentityUnsupported is the stall message of a cloud provider without
// credentials from a Secret: workload identity is not built.
const CloudIdentityUnsupported = "cloud identity is not supported yet; use secretRef or serviceAccountName"

// Credentials are the registry credentials an ImageRepository names:
// spec.secretRef, then the imagePullSecrets of spec.serviceAccountName.
type Credentials = registryauth.Credentials

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
	if p := obj.Spec.Provider; p != "" && p != imagev1.GenericRegistryProvider && creds.Empty() {
		return opts, nil, reconcile.Stalling(imagev1.AuthenticationFailedReason,
			"provider '%s' for '%s': %s", p, obj.Spec.Image, CloudIdentityUnsupported)
	}
	if !creds.Empty() {
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
	secretRef := ""
	if ref := obj.Spec.SecretRef; ref != nil {
		secretRef = ref.Name
	}
	return registryauth.Read(ctx, a.Secrets, obj.Namespace, secretRef, obj.Spec.ServiceAccountName)
}

func (a Auth) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return registryauth.Secret(ctx, a.Secrets, namespace, name)
}
