package helmrepository

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/reconcile"
)

// Reasons of the events the steps send besides the conditions' own: a new
// index stored (Flux's), and TLS keys still given in secretRef.
const (
	newArtifactReason = "NewArtifact"
	deprecatedReason  = "DeprecationWarning"
)

// housekeeping is the kit's storage housekeeping, then status.url kept in
// step with the advertised address.
func (r *Reconciler) housekeeping(ctx context.Context, obj *sourcev1.HelmRepository, p *reconcile.Pass, st *Fetch) error {
	err := r.kit().Housekeeping(ctx, obj, p, st)
	r.setURL(obj)
	return err
}

// reconcileSource fetches the index within spec.timeout. An index whose
// sorted form has the stored artifact's digest writes nothing; a new one
// goes to a temporary file for the kit to store.
func (r *Reconciler) reconcileSource(ctx context.Context, obj *sourcev1.HelmRepository, p *reconcile.Pass, st *Fetch) error {
	if err := checkURL(obj.Spec.URL); err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, err)
	}
	opts, err := r.options(ctx, obj, p)
	if err != nil {
		// No Secret is watched: retrying is how a fixed one is noticed.
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, err)
	}

	idx, err := chartrepo.FetchIndex(ctx, obj.Spec.URL, opts)
	if err != nil {
		return fetchFailed(obj, err)
	}
	p.Delete(sourcev1.FetchFailedCondition)
	st.index, st.Revision = idx, idx.Digest()
	if r.Cache != nil {
		r.Cache.Set(CacheKey(obj.Namespace, obj.Name), idx.Digest(), idx)
	}
	if a := obj.Status.Artifact; a != nil && a.Revision == idx.Digest() && reconcile.IsTrue(obj, sourcev1.ArtifactInStorageCondition) {
		st.Unchanged = true
		return nil
	}

	dir, err := r.kit().NewTempDir(obj, p)
	if err != nil {
		return reconcile.FailedOn(sourcev1.StorageOperationFailedCondition, sourcev1.ReadOperationFailedReason, err)
	}
	st.Blob = filepath.Join(dir, "index.yaml")
	if err := os.WriteFile(st.Blob, idx.Bytes(), 0o600); err != nil {
		return reconcile.FailedOn(sourcev1.StorageOperationFailedCondition, sourcev1.ReadOperationFailedReason,
			fmt.Errorf("failed to write the fetched index: %w", err))
	}
	st.File, st.Link = indexFile(idx.Digest()), IndexLink
	msg := fmt.Sprintf("new index revision '%s'", idx.Digest())
	p.MarkTrue(sourcev1.ArtifactOutdatedCondition, sourcev1.NewRevisionReason, msg)
	return p.Progress(sourcev1.NewRevisionReason, "building artifact: "+msg)
}

// record is the kit's Record, then Flux's event for a new index: its size
// and where it came from.
func (r *Reconciler) record(ctx context.Context, obj *sourcev1.HelmRepository, p *reconcile.Pass, st *Fetch) error {
	if err := r.kit().Record(ctx, obj, p, st); err != nil {
		return err
	}
	if !st.Unchanged && obj.Status.Artifact != nil && obj.Status.Artifact.Size != nil {
		p.Event(corev1.EventTypeNormal, newArtifactReason, fmt.Sprintf("stored fetched index of size %s from '%s'",
			humanSize(*obj.Status.Artifact.Size), obj.Spec.URL))
	}
	return nil
}

// finalize removes the repository's artifacts and its cached index.
func (r *Reconciler) finalize(ctx context.Context, obj *sourcev1.HelmRepository, p *reconcile.Pass) error {
	if r.Cache != nil {
		r.Cache.Delete(CacheKey(obj.Namespace, obj.Name))
	}
	return r.kit().Finalize(ctx, obj, p)
}

// checkURL refuses what can never be fetched as an HTTP repository: a URL
// that does not parse, another scheme (oci:// without type oci), no host,
// or credentials written into the URL, which would end up in status and
// events.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid Helm repository URL: %w", err)
	}
	switch {
	case u.Scheme == "oci":
		return fmt.Errorf("invalid Helm repository URL '%s': an oci:// URL needs spec.type: oci", u.Redacted())
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("invalid Helm repository URL '%s': the scheme must be http or https", u.Redacted())
	case u.Host == "":
		return fmt.Errorf("invalid Helm repository URL '%s': no host", u.Redacted())
	case u.User != nil:
		return fmt.Errorf("invalid Helm repository URL '%s': credentials belong in a Secret named by spec.secretRef, not in the URL", u.Redacted())
	}
	return nil
}

// fetchFailed marks FetchFailed with Flux's reason for a failed index
// fetch: AuthenticationFailed for 401 and 403, IndexationFailed for the
// rest. What retrying cannot fix (an index over the size limit, a URL the
// client refuses) stalls; the rest backs off.
func fetchFailed(obj *sourcev1.HelmRepository, err error) error {
	reason := sourcev1.IndexationFailedReason
	switch {
	case errors.Is(err, chartrepo.ErrUnauthorized), errors.Is(err, chartrepo.ErrForbidden):
		reason = sourcev1.AuthenticationFailedReason
		if obj.Spec.SecretRef == nil {
			err = fmt.Errorf("%w (no spec.secretRef is set: name a Secret with 'username' and 'password')", err)
		} else {
			err = fmt.Errorf("%w (sent the credentials of Secret '%s')", err, obj.Spec.SecretRef.Name)
		}
	case errors.Is(err, chartrepo.ErrInvalidURL):
		reason = sourcev1.URLInvalidReason
	}
	err = fmt.Errorf("failed to fetch Helm repository index: %w", err)
	if chartrepo.IsStalling(err) {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, reason, err)
	}
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, reason, err)
}

// options turns the spec and its Secrets into the index client's options:
// basic auth (and, deprecated, TLS) from secretRef, TLS from certSecretRef,
// which wins, the timeout and the size limit.
func (r *Reconciler) options(ctx context.Context, obj *sourcev1.HelmRepository, p *reconcile.Pass) (chartrepo.Options, error) {
	opts := chartrepo.Options{Timeout: obj.GetTimeout(), MaxIndexSize: r.MaxIndexSize, PassCredentials: obj.Spec.PassCredentials}
	if ref := obj.Spec.SecretRef; ref != nil {
		data, err := r.secret(ctx, obj.Namespace, ref, "spec.secretRef")
		if err != nil {
			return opts, err
		}
		creds, warnings, err := chartrepo.SecretOptions(data)
		if err != nil {
			return opts, fmt.Errorf("secret '%s/%s' (spec.secretRef): %w", obj.Namespace, ref.Name, err)
		}
		for _, w := range warnings {
			p.Event(corev1.EventTypeWarning, deprecatedReason, fmt.Sprintf("secret '%s': %s", ref.Name, w))
		}
		opts.Username, opts.Password, opts.TLS = creds.Username, creds.Password, creds.TLS
	}
	if ref := obj.Spec.CertSecretRef; ref != nil {
		data, err := r.secret(ctx, obj.Namespace, ref, "spec.certSecretRef")
		if err != nil {
			return opts, err
		}
		tlsConfig, err := chartrepo.TLSFromCertSecret(data)
		if err != nil {
			return opts, fmt.Errorf("secret '%s/%s' (spec.certSecretRef): %w", obj.Namespace, ref.Name, err)
		}
		opts.TLS = tlsConfig
	}
	return opts, nil
}

// secret reads the data of a Secret the spec names.
func (r *Reconciler) secret(ctx context.Context, ns string, ref *meta.LocalObjectReference, field string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := r.Secrets.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, &s); err != nil {
		return nil, fmt.Errorf("failed to get secret '%s/%s' (%s): %w", ns, ref.Name, field, err)
	}
	return s.Data, nil
}

// humanSize writes a size as Flux's events do: decimal units, four
// significant digits ("30.88kB").
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	size, i := float64(n), 0
	for size >= 1000 && i < len(units)-1 {
		size /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", size, units[i])
}
