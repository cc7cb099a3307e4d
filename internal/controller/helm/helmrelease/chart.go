package helmrelease

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/sourceref"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/reconcile"
)

// fieldOwner is the field manager of what the controller applies.
const fieldOwner = "helm-controller"

// chartNamespace is the namespace of the HelmChart spec.chart generates:
// the template's sourceRef's.
func chartNamespace(obj *helmv2.HelmRelease) string {
	if tpl := obj.Spec.Chart; tpl != nil && tpl.Spec.SourceRef.Namespace != "" {
		return tpl.Spec.SourceRef.Namespace
	}
	return obj.Namespace
}

// reconcileChart resolves the chart to release: it applies the HelmChart
// spec.chart describes (or removes the one a former spec.chart made) and
// waits for its artifact, or reads spec.chartRef's; then downloads the
// artifact from the storage server, checks its digest and loads the chart.
func (r *Reconciler) reconcileChart(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	var src sourceref.Source
	var err error
	if obj.Spec.ChartRef != nil {
		if err := r.deleteGeneratedChart(ctx, obj); err != nil {
			return err
		}
		src, err = r.chartRef(ctx, obj)
	} else {
		src, err = r.generatedChart(ctx, obj)
	}
	if err != nil {
		return err
	}
	a := src.GetArtifact()
	if err := sourceref.CheckArtifactURL(src, r.Storage); err != nil {
		return reconcile.Stalling(meta.ArtifactFailedReason, "%s", err)
	}
	dir, err := os.MkdirTemp(r.TempDir, "helmrelease-"+obj.Namespace+"-"+obj.Name+"-")
	if err != nil {
		return reconcile.Failed(meta.ArtifactFailedReason, "create temporary directory: %w", err)
	}
	p.Defer(func() { _ = os.RemoveAll(dir) })
	if err := r.Fetcher.Fetch(ctx, a.URL, a.Digest, dir); err != nil {
		return sourceref.RefusedServer(reconcile.Failed(meta.ArtifactFailedReason, "failed to download the chart artifact of %s '%s/%s' (revision '%s'): %w",
			sourceref.KindOf(src), src.GetNamespace(), src.GetName(), a.Revision, err), src)
	}
	root, err := chartRoot(dir)
	if err != nil {
		return reconcile.Stalling(meta.ArtifactFailedReason, "the artifact of %s '%s/%s' (revision '%s') %v",
			sourceref.KindOf(src), src.GetNamespace(), src.GetName(), a.Revision, err)
	}
	c, err := chart.Load(root, chart.Limits{})
	if err != nil {
		return reconcile.Stalling(meta.ArtifactFailedReason, "failed to load the chart of %s '%s/%s' (revision '%s'): %v",
			sourceref.KindOf(src), src.GetNamespace(), src.GetName(), a.Revision, err)
	}
	if c.SDK().Metadata.APIVersion != "v2" {
		return reconcile.Stalling(meta.ArtifactFailedReason, "chart '%s' has apiVersion %s: only v2 (Helm 3) charts are released",
			c.Name(), c.SDK().Metadata.APIVersion)
	}
	st.chart = c.SDK()
	_, isOCI := src.(*sourcev1.OCIRepository)
	st.version, st.ociDigest = r.chartVersion(c.Version(), a.Revision, isOCI)
	// As Flux: the release records the revision as its chart's version,
	// so storage tells one digest from another.
	st.chart.Metadata.Version = st.version
	return nil
}

// chartVersion is the version a release records of a chart of version
// from an artifact of revision, and the artifact's digest for an
// OCIRepository's. An OCI chart's version carries +<digest> (12 hex
// digits): a new digest of the same version is a new chart, and upgrades;
// unless DisableChartDigestTracking says the version alone counts.
func (r *Reconciler) chartVersion(version, revision string, isOCI bool) (string, string) {
	if !isOCI {
		return version, ""
	}
	digest := artifact.RevisionDigest(revision)
	if _, hex, err := artifact.ParseDigest(digest); err == nil && hex != "" && !r.Gates.DisableChartDigestTracking {
		return version + "+" + hex[:min(12, len(hex))], digest
	}
	return version, digest
}

// chartRoot finds the chart in an unpacked artifact: the directory itself
// (an OCI layer extracted) or its one top directory (a packaged chart).
func chartRoot(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil {
		return dir, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), "Chart.yaml")); err == nil {
				found = append(found, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("holds %d charts, want one (a directory with a Chart.yaml)", len(found))
	}
	return found[0], nil
}

// generatedChart applies the HelmChart spec.chart describes, server-side,
// and returns it once it has an artifact for its current spec.
func (r *Reconciler) generatedChart(ctx context.Context, obj *helmv2.HelmRelease) (sourceref.Source, error) {
	tpl := obj.Spec.Chart
	if tpl == nil {
		return nil, reconcile.Stalling(meta.ReconciliationFailedReason, "neither spec.chart nor spec.chartRef is set")
	}
	ns := chartNamespace(obj)
	if r.NoCrossNamespaceRefs && ns != obj.Namespace {
		return nil, reconcile.Stalling(meta.AccessDeniedReason,
			"spec.chart.spec.sourceRef names namespace '%s': cross-namespace references are not allowed", ns)
	}
	hc := desiredChart(obj, ns)
	if err := r.Client.Patch(ctx, hc, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return nil, reconcile.Failed(meta.ArtifactFailedReason, "failed to apply HelmChart '%s/%s': %w", ns, hc.Name, err)
	}
	obj.Status.HelmChart = ns + "/" + hc.Name
	// The patch answered with the object as it is now, status included: no
	// read through the cache, which may not have seen a new HelmChart yet.
	return hc, chartReady(hc)
}

// chartReady waits for a chart source that has no artifact for its current
// spec yet, or whose last attempt failed, with its own words.
func chartReady(src sourceref.Source) error {
	kind := sourceref.KindOf(src)
	var ready *metav1.Condition
	if c, ok := src.(meta.Conditioned); ok {
		ready = reconcile.Get(c, meta.ReadyCondition)
	}
	gen, _ := src.(interface{ GetObservedGeneration() int64 })
	// Not there yet is waiting (DependencyNotReady); a chart source that
	// failed is ArtifactFailed, still looked at again when it changes.
	switch {
	case gen != nil && gen.GetObservedGeneration() < src.GetGeneration():
		return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "%s '%s/%s' is not reconciled yet", kind, src.GetNamespace(), src.GetName())
	case ready != nil && ready.Status == metav1.ConditionFalse:
		return reconcile.Waiting(meta.ArtifactFailedReason, 0, "%s '%s/%s' is not ready: %s", kind, src.GetNamespace(), src.GetName(), ready.Message)
	case src.GetArtifact() == nil:
		return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "%s '%s/%s' has no artifact yet", kind, src.GetNamespace(), src.GetName())
	}
	return nil
}

// desiredChart is the HelmChart spec.chart describes: named
// <namespace>-<name> of the HelmRelease, labelled with it.
func desiredChart(obj *helmv2.HelmRelease, ns string) *sourcev1.HelmChart {
	tpl := obj.Spec.Chart
	labels := map[string]string{}
	var annotations map[string]string
	if m := tpl.ObjectMeta; m != nil {
		for k, v := range m.Labels {
			labels[k] = v
		}
		annotations = m.Annotations
	}
	for k, v := range ownerLabels(obj) {
		labels[k] = v
	}
	interval := obj.Spec.Interval
	if tpl.Spec.Interval != nil {
		interval = *tpl.Spec.Interval
	}
	version := tpl.Spec.Version
	if version == "" {
		version = "*"
	}
	strategy := tpl.Spec.ReconcileStrategy
	if strategy == "" {
		strategy = sourcev1.ReconcileStrategyChartVersion
	}
	hc := &sourcev1.HelmChart{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.HelmChartKind},
		ObjectMeta: metav1.ObjectMeta{Name: obj.GetHelmChartName(), Namespace: ns, Labels: labels, Annotations: annotations},
		Spec: sourcev1.HelmChartSpec{
			Chart:   tpl.Spec.Chart,
			Version: version,
			SourceRef: sourcev1.LocalHelmChartSourceReference{
				APIVersion: tpl.Spec.SourceRef.APIVersion, Kind: tpl.Spec.SourceRef.Kind, Name: tpl.Spec.SourceRef.Name,
			},
			Interval:                 interval,
			ReconcileStrategy:        strategy,
			ValuesFiles:              tpl.Spec.ValuesFiles,
			IgnoreMissingValuesFiles: tpl.Spec.IgnoreMissingValuesFiles,
		},
	}
	if v := tpl.Spec.Verify; v != nil {
		hc.Spec.Verify = &sourcev1.HelmChartVerification{Provider: v.Provider, SecretRef: v.SecretRef}
	}
	return hc
}

// chartRef reads spec.chartRef's object and waits for its artifact.
func (r *Reconciler) chartRef(ctx context.Context, obj *helmv2.HelmRelease) (sourceref.Source, error) {
	ref := obj.Spec.ChartRef
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	if r.NoCrossNamespaceRefs && ns != obj.Namespace {
		return nil, reconcile.Stalling(meta.AccessDeniedReason,
			"spec.chartRef names namespace '%s': cross-namespace references are not allowed", ns)
	}
	if ref.Kind == sourcev1.ExternalArtifactKind && r.Gates.NoExternalArtifact {
		return nil, reconcile.Stalling(sourcev1.InvalidChartReferenceReason,
			"spec.chartRef names ExternalArtifact '%s/%s', but this controller runs with --feature-gates=ExternalArtifact=false; enable the gate or use another chart source",
			ns, ref.Name)
	}
	src, err := sourceref.New(ref.Kind)
	if err != nil {
		return nil, reconcile.Stalling(meta.ArtifactFailedReason, "spec.chartRef: %v", err)
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, reconcile.Waiting(meta.DependencyNotReadyReason, 0, "%s '%s/%s' not found", ref.Kind, ns, ref.Name)
		}
		return nil, reconcile.Failed(meta.ArtifactFailedReason, "failed to get %s '%s/%s': %w", ref.Kind, ns, ref.Name, err)
	}
	return src, chartReady(src)
}

// deleteGeneratedChart removes the HelmChart a former spec.chart made.
func (r *Reconciler) deleteGeneratedChart(ctx context.Context, obj *helmv2.HelmRelease) error {
	ns, name, ok := strings.Cut(obj.Status.HelmChart, "/")
	if !ok || ns == "" || name == "" {
		return nil
	}
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := r.Client.Delete(ctx, hc); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Failed(meta.ReconciliationFailedReason, "failed to delete HelmChart '%s': %w", obj.Status.HelmChart, err)
	}
	obj.Status.HelmChart = ""
	return nil
}
