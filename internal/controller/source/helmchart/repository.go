package helmchart

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/reconcile"
)

// buildFromIndex resolves the chart in the index artifact of an HTTP
// HelmRepository (through the shared cache), then downloads the archive
// with the repository's credentials unless the stored one is that version.
func (r *Reconciler) buildFromIndex(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	repo := b.repo
	idx, err := r.index(obj, repo)
	if err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, ChartPullErrorReason,
			fmt.Errorf("failed to load the index of HelmRepository '%s/%s' from storage: %w", repo.Namespace, repo.Name, err))
	}
	versions, err := idx.Versions(obj.Spec.Chart)
	if err != nil {
		return fetchFailed("failed to get chart version for remote reference", err)
	}
	v, err := chart.PickVersion(versions, obj.Spec.Version)
	if err != nil {
		return pickFailed(obj.Spec.Chart, err)
	}
	entry, err := idx.Get(obj.Spec.Chart, v)
	if err != nil {
		return fetchFailed("failed to get chart version for remote reference", err)
	}
	version, err := withMetadata(entry.Version, versionMetadata(obj, ""))
	if err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason, err)
	}
	if unchanged, err := resolved(obj, p, b, obj.Spec.Chart, version, len(obj.Spec.ValuesFiles) > 0); unchanged || err != nil {
		return err
	}

	opts, err := r.httpOptions(ctx, repo)
	if err != nil {
		return err
	}
	data, err := chartrepo.DownloadChart(ctx, repo.Spec.URL, entry, opts)
	if err != nil {
		return fetchFailed(fmt.Sprintf("failed to download chart for remote reference '%s' version '%s'", obj.Spec.Chart, entry.Version), err)
	}
	return r.finishRemote(obj, p, b, repo.Spec.URL, data)
}

// index returns the parsed index artifact of repo: from the shared cache
// (loaded from storage once per revision), or from storage without one.
// The lookup is counted for obj, when not nil.
func (r *Reconciler) index(obj *sourcev1.HelmChart, repo *sourcev1.HelmRepository) (*chartrepo.Index, error) {
	a := repo.Status.Artifact
	load := func() (*chartrepo.Index, error) {
		if err := ownArtifact(sourcev1.HelmRepositoryKind, repo.Namespace, repo.Name, a); err != nil {
			return nil, err
		}
		path, err := r.Storage.LocalPath(a.Path)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return chartrepo.ParseIndex(repo.Spec.URL, data)
	}
	if r.Cache == nil {
		return load()
	}
	idx, hit, err := r.Cache.GetOrLoad(repo.Namespace+"/"+repo.Name, a.Revision, load)
	if err == nil && obj != nil {
		r.Metrics.CacheEvent(obj, hit)
	}
	return idx, err
}

// httpOptions are the chart repository client options of an HTTP
// HelmRepository: basic auth (and deprecated TLS keys) from secretRef, TLS
// from certSecretRef, its timeout and passCredentials, the chart limits.
func (r *Reconciler) httpOptions(ctx context.Context, repo *sourcev1.HelmRepository) (chartrepo.Options, error) {
	var opts chartrepo.Options
	if ref := repo.Spec.SecretRef; ref != nil {
		s, err := r.secret(ctx, repo.Namespace, ref.Name)
		if err != nil {
			return opts, authFailed(repo, "spec.secretRef", err)
		}
		if opts, _, err = chartrepo.SecretOptions(s.Data); err != nil {
			return opts, authFailed(repo, "spec.secretRef", fmt.Errorf("secret '%s/%s': %w", repo.Namespace, ref.Name, err))
		}
	}
	if ref := repo.Spec.CertSecretRef; ref != nil {
		s, err := r.secret(ctx, repo.Namespace, ref.Name)
		if err != nil {
			return opts, authFailed(repo, "spec.certSecretRef", err)
		}
		if opts.TLS, err = chartrepo.TLSFromCertSecret(s.Data); err != nil {
			return opts, authFailed(repo, "spec.certSecretRef", fmt.Errorf("secret '%s/%s': %w", repo.Namespace, ref.Name, err))
		}
	}
	opts.Timeout = repo.GetTimeout()
	opts.PassCredentials = repo.Spec.PassCredentials
	opts.MaxIndexSize = r.MaxIndexSize
	opts.MaxChartSize = r.Limits.MaxSize
	if opts.MaxChartSize == 0 {
		opts.MaxChartSize = chart.DefaultMaxSize
	}
	return opts, nil
}

// authFailed is a Secret of the repository that cannot be read or used:
// retried, since it may be created or fixed.
func authFailed(repo *sourcev1.HelmRepository, field string, err error) error {
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason,
		fmt.Errorf("failed to read the credentials of HelmRepository '%s/%s' (%s): %w", repo.Namespace, repo.Name, field, err))
}

func (r *Reconciler) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := r.Secrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, fmt.Errorf("failed to get secret '%s/%s': %w", namespace, name, err)
	}
	return &s, nil
}

// repositoryFor finds the HelmRepository of namespace whose URL is url (a
// dependency's repository), nil when there is none.
func (r *Reconciler) repositoryFor(ctx context.Context, namespace, url string) (*sourcev1.HelmRepository, error) {
	var list sourcev1.HelmRepositoryList
	if err := r.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	want := normalizeURL(url)
	for i := range list.Items {
		if normalizeURL(list.Items[i].Spec.URL) == want {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}
