package helmchart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/engine/oci"
	"github.com/driftless/driftless/internal/reconcile"
)

// buildFromTarball packages the chart at spec.chart in the artifact of a
// GitRepository or Bucket: its version from Chart.yaml (with the source
// revision under the Revision strategy), its dependencies built, its
// values files merged. Nothing is built when the stored artifact is that
// chart at that version for this generation.
func (r *Reconciler) buildFromTarball(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	ref := obj.Spec.SourceRef
	a := sourceArtifact(b.src)
	rel := path.Clean(strings.TrimPrefix(obj.Spec.Chart, "./"))
	if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.IllegalPathReason,
			fmt.Errorf("path calculation for chart '%s' failed: it leads outside the %s '%s' artifact", obj.Spec.Chart, ref.Kind, ref.Name))
	}
	tmp, err := r.kit().NewTempDir(obj, p)
	if err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, ChartPullErrorReason, err)
	}
	root := filepath.Join(tmp, "source")
	if err := r.unpack(a.Path, root); err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, sourcev1.ReadOperationFailedReason,
			fmt.Errorf("failed to extract the artifact of %s '%s' (revision '%s'): %w", ref.Kind, ref.Name, a.Revision, err))
	}
	dir := filepath.Join(root, filepath.FromSlash(rel))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason,
			fmt.Errorf("invalid chart reference: no chart directory '%s' in the artifact of %s '%s' (revision '%s')", obj.Spec.Chart, ref.Kind, ref.Name, a.Revision))
	}
	c, err := chart.Load(dir, r.Limits)
	if err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason,
			fmt.Errorf("invalid chart reference: failed to load chart '%s' from %s '%s' (revision '%s'): %w", obj.Spec.Chart, ref.Kind, ref.Name, a.Revision, err))
	}
	version, err := withMetadata(c.Version(), versionMetadata(obj, a.Revision))
	if err != nil {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason, err)
	}
	if unchanged, err := resolved(obj, p, b, c.Name(), version, true); unchanged || err != nil {
		return err
	}

	if err := chart.BuildDependencies(ctx, c, root, &dependencies{r: r, namespace: obj.Namespace}); err != nil {
		var illegal *chart.IllegalPathError
		if errors.As(err, &illegal) {
			return reconcile.StallingOn(sourcev1.BuildFailedCondition, sourcev1.IllegalPathReason,
				fmt.Errorf("dependency build error: %w", err))
		}
		return reconcile.FailedOn(sourcev1.BuildFailedCondition, DependencyBuildErrorReason,
			fmt.Errorf("dependency build error: chart '%s': %w", c.Name(), err))
	}
	values, err := r.mergeValues(obj, b, root, c)
	if err != nil {
		return err
	}
	return r.pack(obj, b, c, values, tmp)
}

// unpack extracts the source artifact stored at rel into dir.
func (r *Reconciler) unpack(rel, dir string) error {
	local, err := r.Storage.LocalPath(rel)
	if err != nil {
		return err
	}
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	return artifact.Untar(f, dir, artifact.UntarOptions{MaxSize: artifact.DefaultMaxUntarSize, SkipLinks: true})
}

// revisionHex is the hex digest of a source revision
// ("main@sha1:<hex>" -> "<hex>").
func revisionHex(rev string) string {
	d := artifact.RevisionDigest(rev)
	if i := strings.IndexByte(d, ':'); i >= 0 {
		return d[i+1:]
	}
	return d
}

// normalizeURL compares repository URLs without a trailing slash.
func normalizeURL(u string) string { return strings.TrimRight(strings.TrimSpace(u), "/") }

// dependencies fetches a chart's remote dependencies through the
// HelmRepository of the HelmChart's namespace whose URL matches, with its
// credentials, or anonymously when none does.
type dependencies struct {
	r         *Reconciler
	namespace string
}

// Fetch implements chart.RepositoryResolver.
func (d *dependencies) Fetch(ctx context.Context, repoURL, name, versionRange string) ([]byte, error) {
	repo, err := d.r.repositoryFor(ctx, d.namespace, repoURL)
	if err != nil {
		return nil, fmt.Errorf("list HelmRepositories: %w", err)
	}
	if strings.HasPrefix(repoURL, oci.URLPrefix) {
		return d.fetchOCI(ctx, repo, repoURL, name, versionRange)
	}
	opts := chartrepo.Options{MaxIndexSize: d.r.MaxIndexSize, MaxChartSize: d.r.Limits.MaxSize}
	var idx *chartrepo.Index
	if repo != nil {
		if opts, err = d.r.httpOptions(ctx, repo); err != nil {
			return nil, err
		}
		if repo.Status.Artifact != nil {
			idx, err = d.r.index(nil, repo)
		}
	}
	if idx == nil && err == nil {
		idx, err = chartrepo.FetchIndex(ctx, repoURL, opts)
	}
	if err != nil {
		return nil, err
	}
	versions, err := idx.Versions(name)
	if err != nil {
		return nil, err
	}
	v, err := chart.PickVersion(versions, versionRange)
	if err != nil {
		return nil, named(name, err)
	}
	entry, err := idx.Get(name, v)
	if err != nil {
		return nil, err
	}
	return chartrepo.DownloadChart(ctx, repoURL, entry, opts)
}

// fetchOCI pulls a dependency from an OCI registry.
func (d *dependencies) fetchOCI(ctx context.Context, repo *sourcev1.HelmRepository, repoURL, name, versionRange string) ([]byte, error) {
	base, err := oci.ParseURL(repoURL)
	if err != nil {
		return nil, err
	}
	c := oci.NewClient(oci.Options{})
	if repo != nil {
		if c, err = d.r.ociClient(ctx, repo); err != nil {
			return nil, err
		}
	}
	tags, err := chartrepo.OCITags(ctx, c, base, name)
	if err != nil {
		return nil, err
	}
	v, err := chart.PickVersion(tags, versionRange)
	if err != nil {
		return nil, named(name, err)
	}
	pulled, err := chartrepo.PullOCIChart(ctx, c, base, name, v, d.r.Limits.MaxSize)
	if err != nil {
		return nil, err
	}
	return pulled.Data, nil
}

// named sets the chart's name in a NoVersionError, for its message.
func named(name string, err error) error {
	var nv *chart.NoVersionError
	if errors.As(err, &nv) {
		nv.Chart = name
	}
	return err
}
