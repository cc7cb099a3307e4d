package helmchart

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// ociPull is a chart pulled from an OCI HelmRepository, for verification.
type ociPull struct {
	client *oci.Client
	// repo is the chart's OCI repository (<repository URL>/<chart>).
	repo oci.Repository
	// digest is the manifest digest pulled; url says where, for messages.
	digest, url string
}

// buildFromOCI lists the chart's tags in an OCI HelmRepository, picks the
// newest version in range and pulls it, with the repository's settings.
func (r *Reconciler) buildFromOCI(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	repo := b.repo
	// A verification that cannot be done stops the pass before the
	// registry is asked anything.
	if v := obj.Spec.Verify; v != nil {
		if err := supported(v); err != nil {
			return reconcile.StallingOn(sourcev1.SourceVerifiedCondition, sourcev1.VerificationErrorReason, err)
		}
	}
	base, err := oci.ParseURL(repo.Spec.URL)
	if err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason,
			fmt.Errorf("invalid URL of HelmRepository '%s/%s': %w", repo.Namespace, repo.Name, err))
	}
	c, err := r.ociClient(ctx, repo)
	if err != nil {
		return err
	}
	tags, err := chartrepo.OCITags(ctx, c, base, obj.Spec.Chart)
	if err != nil {
		return fetchFailed(fmt.Sprintf("failed to list the tags of chart '%s' in '%s'", obj.Spec.Chart, repo.Spec.URL), err)
	}
	v, err := chart.PickVersion(tags, obj.Spec.Version)
	if err != nil {
		return pickFailed(obj.Spec.Chart, err)
	}
	version, err := withMetadata(v, versionMetadata(obj, ""))
	if err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason, err)
	}
	b.oci = &ociPull{client: c, repo: chartrepo.ChartRepository(base, obj.Spec.Chart)}
	if unchanged, err := resolved(obj, p, b, obj.Spec.Chart, version, len(obj.Spec.ValuesFiles) > 0); unchanged || err != nil {
		return err
	}
	maxSize := r.Limits.MaxSize
	if maxSize == 0 {
		maxSize = chart.DefaultMaxSize
	}
	pulled, err := chartrepo.PullOCIChart(ctx, c, base, obj.Spec.Chart, v, maxSize)
	if err != nil {
		return fetchFailed(fmt.Sprintf("failed to pull chart '%s' version '%s' from '%s'", obj.Spec.Chart, v, repo.Spec.URL), err)
	}
	b.oci.digest, b.oci.url = pulled.Digest, pulled.URL
	return r.finishRemote(obj, p, b, pulled.URL, pulled.Data)
}

// ociClient is the registry client of an OCI HelmRepository: credentials
// from secretRef (username and password, or a docker config), TLS from
// certSecretRef, insecure, the repository's timeout. A cloud provider
// without a Secret stalls: cloud identity is not built yet.
func (r *Reconciler) ociClient(ctx context.Context, repo *sourcev1.HelmRepository) (*oci.Client, error) {
	opts := oci.Options{Insecure: repo.Spec.Insecure, Timeout: repo.GetTimeout()}
	if pr := repo.Spec.Provider; pr != "" && pr != sourcev1.GenericOCIProvider && repo.Spec.SecretRef == nil {
		return nil, reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidProviderConfigurationReason,
			fmt.Errorf("%s for '%s' (HelmRepository '%s/%s'), and no spec.secretRef is set; "+
				"give the registry credentials in a Secret named by spec.secretRef", oci.CloudProviderUnsupported(pr), repo.Spec.URL, repo.Namespace, repo.Name))
	}
	if ref := repo.Spec.SecretRef; ref != nil {
		s, err := r.secret(ctx, repo.Namespace, ref.Name)
		if err != nil {
			return nil, authFailed(repo, "spec.secretRef", err)
		}
		if err := registryCredentials(s, &opts); err != nil {
			return nil, authFailed(repo, "spec.secretRef", fmt.Errorf("secret '%s/%s': %w", repo.Namespace, ref.Name, err))
		}
	}
	if ref := repo.Spec.CertSecretRef; ref != nil {
		s, err := r.secret(ctx, repo.Namespace, ref.Name)
		if err != nil {
			return nil, authFailed(repo, "spec.certSecretRef", err)
		}
		if opts.TLS, err = chartrepo.TLSFromCertSecret(s.Data); err != nil {
			return nil, authFailed(repo, "spec.certSecretRef", fmt.Errorf("secret '%s/%s': %w", repo.Namespace, ref.Name, err))
		}
	}
	return oci.NewClient(opts), nil
}

// registryCredentials reads a registry Secret: a docker config
// (kubernetes.io/dockerconfigjson) or username and password.
func registryCredentials(s *corev1.Secret, opts *oci.Options) error {
	_, hasConfig := s.Data[corev1.DockerConfigJsonKey]
	_, hasLegacy := s.Data[corev1.DockerConfigKey]
	if s.Type == corev1.SecretTypeDockerConfigJson || hasConfig || hasLegacy {
		kc, err := oci.KeychainFromDockerConfig(s.Data)
		if err != nil {
			return err
		}
		opts.Keychain = kc
		return nil
	}
	user, pass := string(s.Data[chartrepo.UsernameKey]), string(s.Data[chartrepo.PasswordKey])
	if user == "" || pass == "" {
		return errors.New("neither a docker config (.dockerconfigjson) nor both 'username' and 'password' keys")
	}
	opts.Auth = &authn.Basic{Username: user, Password: pass}
	return nil
}
