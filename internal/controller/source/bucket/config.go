package bucket

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/registryauth"
	s3 "github.com/driftless/driftless/internal/engine/bucket"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// The keys of a Bucket's Secrets, as Flux reads them.
const (
	accessKeyKey = "accesskey"
	secretKeyKey = "secretkey"
	ldapUserKey  = "username"
	ldapPassKey  = "password"
)

// config turns obj's spec and Secrets into the S3 client's configuration.
// A spec that can never work stalls (its author must change it); a Secret
// that is missing or incomplete fails and is retried, since it may be
// created or fixed. No Secret value appears in any message.
func (r *Reconciler) config(ctx context.Context, obj *sourcev1.Bucket, f *Fetch) (s3.Config, error) {
	spec := obj.Spec
	cfg := s3.Config{
		Provider: spec.Provider, BucketName: spec.BucketName, Endpoint: spec.Endpoint,
		Region: spec.Region, Prefix: spec.Prefix, Insecure: spec.Insecure, Timeout: DefaultTimeout,
		MaxDownloadSize: r.MaxSize,
	}
	if spec.Timeout != nil && spec.Timeout.Duration > 0 {
		cfg.Timeout = spec.Timeout.Duration
	}
	if err := checkProvider(obj); err != nil {
		return cfg, err
	}
	if err := s3.ValidateEndpoint(spec.Endpoint, spec.Insecure); err != nil {
		return cfg, reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, err)
	}
	if ref := spec.SecretRef; ref != nil {
		f.secret = obj.Namespace + "/" + ref.Name
		data, err := r.secretData(ctx, obj, ref.Name, "spec.secretRef")
		if err != nil {
			return cfg, err
		}
		if cfg.AccessKey, cfg.SecretKey, err = keys(data, f.secret); err != nil {
			return cfg, authFailed(err)
		}
	}
	if ref := spec.CertSecretRef; ref != nil {
		data, err := r.secretData(ctx, obj, ref.Name, "spec.certSecretRef")
		if err != nil {
			return cfg, err
		}
		if cfg.TLS, err = oci.TLSConfigFromSecret(data); err != nil {
			return cfg, authFailed(fmt.Errorf("invalid TLS secret '%s/%s' (spec.certSecretRef): %w", obj.Namespace, ref.Name, err))
		}
	}
	if ref := spec.ProxySecretRef; ref != nil {
		data, err := r.secretData(ctx, obj, ref.Name, "spec.proxySecretRef")
		if err != nil {
			return cfg, err
		}
		if cfg.Proxy, err = oci.ProxyFromSecret(data); err != nil {
			return cfg, authFailed(fmt.Errorf("invalid proxy secret '%s/%s' (spec.proxySecretRef): %w", obj.Namespace, ref.Name, err))
		}
	}
	if sts := spec.STS; sts != nil {
		c := &s3.STS{Provider: sts.Provider, Endpoint: sts.Endpoint}
		if ref := sts.SecretRef; ref != nil {
			data, err := r.secretData(ctx, obj, ref.Name, "spec.sts.secretRef")
			if err != nil {
				return cfg, err
			}
			user, pass := string(data[ldapUserKey]), string(data[ldapPassKey])
			if user == "" || pass == "" {
				return cfg, authFailed(fmt.Errorf("secret '%s/%s' (spec.sts.secretRef) must hold both '%s' and '%s'", obj.Namespace, ref.Name, ldapUserKey, ldapPassKey))
			}
			c.Username, c.Password = user, pass
		}
		if ref := sts.CertSecretRef; ref != nil {
			data, err := r.secretData(ctx, obj, ref.Name, "spec.sts.certSecretRef")
			if err != nil {
				return cfg, err
			}
			var terr error
			if c.TLS, terr = oci.TLSConfigFromSecret(data); terr != nil {
				return cfg, authFailed(fmt.Errorf("invalid TLS secret '%s/%s' (spec.sts.certSecretRef): %w", obj.Namespace, ref.Name, terr))
			}
		}
		cfg.STS = c
	}
	return cfg, nil
}

// checkProvider stalls the providers whose credentials come from a cloud
// identity, which Driftless does not build, naming the route that works.
// The controller's own environment is never a source of credentials: it
// would serve every tenant.
func checkProvider(obj *sourcev1.Bucket) error {
	stall := func(format string, args ...any) error {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidProviderConfigurationReason, fmt.Errorf(format, args...))
	}
	spec := obj.Spec
	switch spec.Provider {
	case "", sourcev1.BucketProviderGeneric, sourcev1.BucketProviderAmazon:
	case sourcev1.BucketProviderGoogle:
		return stall("provider gcp needs cloud identity, which Driftless does not support: use provider generic with endpoint storage.googleapis.com and HMAC keys in secretRef (GCS's S3 interoperability)")
	case sourcev1.BucketProviderAzure:
		return stall("provider azure needs Azure Blob Storage's own API and identity, which Driftless does not support yet")
	default:
		return stall("unknown provider %q: use generic, aws, gcp or azure", spec.Provider)
	}
	if spec.ServiceAccountName != "" {
		return stall("serviceAccountName needs cloud workload identity, which Driftless does not support: set secretRef to a Secret with %s and %s", accessKeyKey, secretKeyKey)
	}
	if spec.Provider == sourcev1.BucketProviderAmazon {
		if spec.SecretRef == nil {
			return stall("provider aws without secretRef would need cloud identity (IRSA, EKS Pod Identity, an instance profile or the controller's own AWS credentials), which Driftless does not support: set secretRef to a Secret with %s and %s", accessKeyKey, secretKeyKey)
		}
		if spec.STS != nil {
			return stall("provider aws with sts needs cloud identity, which Driftless does not support: remove sts and set secretRef to a Secret with %s and %s", accessKeyKey, secretKeyKey)
		}
	}
	if spec.CertSecretRef != nil && spec.Provider == sourcev1.BucketProviderAmazon {
		return stall("certSecretRef is supported with provider generic only, as in Flux")
	}
	if sts := spec.STS; sts != nil && sts.Provider != sourcev1.STSProviderLDAP {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidSTSConfigurationReason,
			fmt.Errorf("sts provider %q is not supported with provider %s: use ldap", sts.Provider, providerName(spec.Provider)))
	}
	return nil
}

func providerName(p string) string {
	if p == "" {
		return sourcev1.BucketProviderGeneric
	}
	return p
}

// keys reads the access and secret keys; a Secret with one and not the
// other names the missing key.
func keys(data map[string][]byte, secret string) (access, secretKey string, err error) {
	access, secretKey = string(data[accessKeyKey]), string(data[secretKeyKey])
	switch {
	case access == "" && secretKey == "":
		return "", "", fmt.Errorf("secret '%s' (spec.secretRef) holds neither '%s' nor '%s'", secret, accessKeyKey, secretKeyKey)
	case access == "":
		return "", "", fmt.Errorf("secret '%s' (spec.secretRef) has no '%s'", secret, accessKeyKey)
	case secretKey == "":
		return "", "", fmt.Errorf("secret '%s' (spec.secretRef) has no '%s'", secret, secretKeyKey)
	}
	return access, secretKey, nil
}

// secretData reads a Secret of obj's namespace; a missing one fails with
// AuthenticationFailed, naming the field that refers to it.
func (r *Reconciler) secretData(ctx context.Context, obj *sourcev1.Bucket, name, field string) (map[string][]byte, error) {
	var secret *corev1.Secret
	secret, err := registryauth.Secret(ctx, r.Secrets, obj.Namespace, name)
	if err != nil {
		return nil, authFailed(fmt.Errorf("%s: %w", field, err))
	}
	return secret.Data, nil
}

func authFailed(err error) error {
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, err)
}
