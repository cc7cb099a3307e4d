package helmchart

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/Masterminds/semver/v3"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/reconcile"
)

// Reasons of a failed build, Flux's (its chart.BuildErrorReason values).
const (
	ChartPullErrorReason         = "ChartPullError"
	ValuesFilesErrorReason       = "ValuesFilesError"
	DependencyBuildErrorReason   = "DependencyBuildError"
	ChartPackageErrorReason      = "ChartPackageError"
	ChartVerificationErrorReason = "ChartVerificationError"
)

// reconcileBuild resolves the chart in its source and leaves the chart
// archive to store in the Output, or Unchanged when the stored artifact is
// already that chart at that version for this generation.
func (r *Reconciler) reconcileBuild(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	var err error
	switch {
	case b.repo != nil && b.repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI:
		err = r.buildFromOCI(ctx, obj, p, b)
	case b.repo != nil:
		err = r.buildFromIndex(ctx, obj, p, b)
	default:
		err = r.buildFromTarball(ctx, obj, p, b)
	}
	if err != nil {
		return err
	}
	p.Delete(sourcev1.FetchFailedCondition)
	p.Delete(sourcev1.BuildFailedCondition)
	return nil
}

// versionMetadata is the build metadata Flux adds to a chart's version:
// the source revision's first 12 hex characters under the Revision
// strategy (Git and Bucket), then the generation when values files are
// merged, so that a consumer sees a new chart when either changes.
func versionMetadata(obj *sourcev1.HelmChart, sourceRevision string) string {
	var md string
	if obj.Spec.ReconcileStrategy == sourcev1.ReconcileStrategyRevision && sourceRevision != "" {
		md = revisionHex(sourceRevision)
		if len(md) > 12 {
			md = md[:12]
		}
	}
	if len(obj.Spec.ValuesFiles) > 0 {
		if md != "" {
			md += "."
		}
		md += strconv.FormatInt(obj.Generation, 10)
	}
	return md
}

// withMetadata sets the build metadata of version (replacing any it had).
func withMetadata(version, md string) (string, error) {
	if md == "" {
		return version, nil
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return "", fmt.Errorf("chart version '%s' is not semver: %w", version, err)
	}
	out, err := v.SetMetadata(md)
	if err != nil {
		return "", fmt.Errorf("set build metadata '%s' on version '%s': %w", md, version, err)
	}
	return out.Original(), nil
}

// upToDate tells whether the stored artifact is b's chart at b's version
// for this generation, verified when the spec asks for it: then nothing is
// downloaded or packaged.
func upToDate(obj *sourcev1.HelmChart, b *Build) bool {
	a := obj.Status.Artifact
	if a == nil || a.Revision != b.version || obj.Status.ObservedChartName != b.chartName ||
		obj.Generation != obj.Status.ObservedGeneration || !reconcile.IsTrue(obj, sourcev1.ArtifactInStorageCondition) {
		return false
	}
	return obj.Spec.Verify == nil || !isOCI(b) || reconcile.IsTrue(obj, sourcev1.SourceVerifiedCondition)
}

func isOCI(b *Build) bool { return b.repo != nil && b.repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI }

// resolved records the chart and version the source resolved to, and
// either marks the pass unchanged or says a new chart is being built.
func resolved(obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build, name, version string, packaged bool) (unchanged bool, err error) {
	b.chartName, b.version, b.packaged = name, version, packaged
	b.File = fmt.Sprintf("%s-%s.tgz", name, version)
	b.Link, b.Revision = LatestLink, version
	if upToDate(obj, b) {
		b.Unchanged = true
		b.valuesFiles = obj.Status.ObservedValuesFiles
		return true, nil
	}
	msg := fmt.Sprintf("new chart '%s' with version '%s'", name, version)
	if obj.Status.Artifact != nil && obj.Status.Artifact.Revision != version {
		p.MarkTrue(sourcev1.ArtifactOutdatedCondition, sourcev1.NewChartReason, msg)
	}
	return false, p.Progress("NewChart", "building artifact: "+msg)
}

// finishRemote checks a chart archive downloaded or pulled from a
// repository and leaves it for the kit: stored as it is, or with the
// values files merged and packaged again at the version with metadata.
func (r *Reconciler) finishRemote(obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build, from string, data []byte) error {
	tmp, err := r.kit().NewTempDir(obj, p)
	if err != nil {
		return reconcile.FailedOn(sourcev1.BuildFailedCondition, ChartPackageErrorReason, err)
	}
	c, err := chart.LoadArchive(from, data, "", r.Limits)
	if err != nil {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, ChartPullErrorReason,
			fmt.Errorf("chart pull error: failed to load chart '%s' version '%s': %w", obj.Spec.Chart, b.version, err)) // err names the archive's URL
	}
	if c.Name() != obj.Spec.Chart {
		return reconcile.FailedOn(sourcev1.FetchFailedCondition, ChartPullErrorReason,
			fmt.Errorf("chart pull error: the archive from '%s' holds chart '%s', not '%s'", from, c.Name(), obj.Spec.Chart))
	}
	if len(obj.Spec.ValuesFiles) == 0 {
		b.Blob = filepath.Join(tmp, b.File)
		if err := os.WriteFile(b.Blob, data, 0o600); err != nil {
			return reconcile.FailedOn(sourcev1.BuildFailedCondition, ChartPackageErrorReason, fmt.Errorf("write chart: %w", err))
		}
		return nil
	}
	values, err := r.mergeValues(obj, b, "", c)
	if err != nil {
		return err
	}
	return r.pack(obj, b, c, values, tmp)
}

// mergeValues merges spec.valuesFiles over the chart's values, from the
// source root, or from the chart itself when root is "".
func (r *Reconciler) mergeValues(obj *sourcev1.HelmChart, b *Build, root string, c *chart.Chart) (map[string]any, error) {
	values, found, err := chart.MergeValues(root, c, obj.Spec.ValuesFiles, obj.Spec.IgnoreMissingValuesFiles)
	var illegal *chart.IllegalPathError
	switch {
	case errors.As(err, &illegal):
		return nil, reconcile.StallingOn(sourcev1.BuildFailedCondition, sourcev1.IllegalPathReason,
			fmt.Errorf("values files merge error: %w", err))
	case errors.Is(err, fs.ErrNotExist):
		return nil, reconcile.StallingOn(sourcev1.BuildFailedCondition, ValuesFilesErrorReason,
			fmt.Errorf("values files merge error: %w; set spec.ignoreMissingValuesFiles to skip missing files", err))
	case err != nil:
		return nil, reconcile.StallingOn(sourcev1.BuildFailedCondition, ValuesFilesErrorReason,
			fmt.Errorf("values files merge error: %w", err))
	}
	b.valuesFiles = found
	return values, nil
}

// pack packages c at b's version with values into dir, as the artifact.
func (r *Reconciler) pack(obj *sourcev1.HelmChart, b *Build, c *chart.Chart, values map[string]any, dir string) error {
	c.SDK().Metadata.Version = b.version
	out, err := chart.Package(c, values, filepath.Join(dir, "package"))
	if err != nil {
		return reconcile.FailedOn(sourcev1.BuildFailedCondition, ChartPackageErrorReason,
			fmt.Errorf("chart package error: chart '%s' version '%s': %w", b.chartName, b.version, err))
	}
	b.Blob, b.packaged = out, true
	return nil
}

// fetchFailed marks FetchFailed for a repository error: AuthenticationFailed
// for 401 and 403, InvalidChartReference for a chart or version that is not
// there (stalled until the repository changes, whose new artifact brings the
// HelmChart back), ChartPullError for the rest, retried with back-off.
func fetchFailed(msg string, err error) error {
	reason := ChartPullErrorReason
	switch {
	case errors.Is(err, chartrepo.ErrUnauthorized), errors.Is(err, chartrepo.ErrForbidden):
		reason = sourcev1.AuthenticationFailedReason
	case errors.Is(err, chartrepo.ErrChartNotFound), errors.Is(err, chartrepo.ErrNoVersion):
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason,
			fmt.Errorf("invalid chart reference: %s: %w", msg, err))
	}
	err = fmt.Errorf("chart pull error: %s: %w", msg, err)
	if chartrepo.IsStalling(err) {
		return reconcile.StallingOn(sourcev1.FetchFailedCondition, reason, err)
	}
	return reconcile.FailedOn(sourcev1.FetchFailedCondition, reason, err)
}

// pickFailed is the error of a version range nothing (or nothing valid)
// matches: Flux's InvalidChartReference, stalled until the spec or the
// repository changes.
func pickFailed(name string, err error) error {
	var nv *chart.NoVersionError
	if errors.As(err, &nv) {
		nv.Chart = name
	}
	return reconcile.StallingOn(sourcev1.FetchFailedCondition, sourcev1.InvalidChartReferenceReason,
		fmt.Errorf("invalid chart reference: failed to get chart version for remote reference: %w", err))
}
