// Package helmchart reconciles HelmChart objects: it resolves one chart
// from its source (a chart repository's index, an OCI HelmRepository, or a
// chart directory in a GitRepository or Bucket artifact) to one version,
// merges the values files the spec names, verifies an OCI chart's cosign
// signature, and publishes the chart archive in the shared artifact storage
// as `helmchart/<ns>/<name>/<chart>-<version>.tgz`, stored as downloaded
// when nothing in it changes and packaged again when it does.
package helmchart

import (
	"context"
	"fmt"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/sourcekit"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/chart"
	"github.com/driftless/driftless/internal/engine/chartrepo"
	"github.com/driftless/driftless/internal/reconcile"
)

// LatestLink is the stable link to the newest chart, status.url.
const LatestLink = "latest.tar.gz"

// sourceIndex indexes HelmCharts by their sourceRef, "<Kind>/<name>".
const sourceIndex = ".spec.sourceRef"

// Reconciler holds what every reconciliation of a HelmChart uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// Secrets reads Secrets directly from the API server.
	Secrets client.Reader
	Storage *artifact.Storage
	// Cache is the parsed index cache shared with the HelmRepository
	// controller; nil parses the stored index on every pass.
	Cache *chartrepo.Cache
	// Metrics counts the cache's hits and misses; nil counts nothing.
	Metrics *reconcile.Metrics
	// Limits bound a chart and its files (--helm-chart-max-size,
	// --helm-chart-file-max-size).
	Limits chart.Limits
	// MaxIndexSize bounds a repository index (--helm-index-max-size).
	MaxIndexSize int64
	// TempDir is where charts are built; "" means the system default.
	TempDir string
}

// Kind declares the HelmChart reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*sourcev1.HelmChart, Build] {
	kit := r.kit()
	watch := func(o client.Object) reconcile.Watch {
		return reconcile.Watch{Object: o, Map: r.consumers,
			Predicates: []predicate.Predicate{predicate.Or[client.Object](
				reconcile.ArtifactChanged(true, false), predicate.GenerationChangedPredicate{})}}
	}
	return reconcile.Kind[*sourcev1.HelmChart, Build]{
		Name: sourcev1.HelmChartKind,
		New:  func() *sourcev1.HelmChart { return &sourcev1.HelmChart{} },
		Conditions: reconcile.ConditionSet{
			NegativePolarity: []string{
				sourcev1.FetchFailedCondition,
				sourcev1.BuildFailedCondition,
				sourcev1.StorageOperationFailedCondition,
				sourcev1.ArtifactOutdatedCondition,
			},
			Owned: []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
		},
		Plan: []reconcile.Step[*sourcev1.HelmChart, Build]{
			{Name: "storage", Run: r.housekeeping},
			{Name: "source", Run: r.reconcileSource},
			{Name: "build", Run: r.reconcileBuild},
			{Name: "verify", Run: r.reconcileVerification},
			{Name: "artifact", Run: kit.Archive},
			{Name: "record", Run: r.record},
			{Name: "gc", Run: kit.GC},
		},
		Finalize: kit.Finalize,
		Succeeded: func(obj *sourcev1.HelmChart) (string, string) {
			if c := reconcile.Get(obj, sourcev1.ArtifactInStorageCondition); c != nil && c.Reason != meta.SucceededReason {
				return c.Reason, c.Message
			}
			return meta.SucceededReason, kit.Stored(obj.Status.Artifact.Revision)
		},
		// A HelmChart reconciles at once when its source publishes a new
		// artifact (or, for an OCI HelmRepository, changes its spec).
		Indexes: []reconcile.Index[*sourcev1.HelmChart]{{Field: sourceIndex, Keys: sourceKey}},
		Watches: []reconcile.Watch{
			watch(&sourcev1.HelmRepository{}), watch(&sourcev1.GitRepository{}), watch(&sourcev1.Bucket{}),
		},
	}
}

// sourceKey is the index key of a HelmChart's sourceRef.
func sourceKey(obj *sourcev1.HelmChart) []string {
	return []string{obj.Spec.SourceRef.Kind + "/" + obj.Spec.SourceRef.Name}
}

// consumers lists the HelmCharts whose sourceRef is src.
func (r *Reconciler) consumers(ctx context.Context, src client.Object) []ctrl.Request {
	kind := ""
	switch src.(type) {
	case *sourcev1.HelmRepository:
		kind = sourcev1.HelmRepositoryKind
	case *sourcev1.GitRepository:
		kind = sourcev1.GitRepositoryKind
	case *sourcev1.Bucket:
		kind = sourcev1.BucketKind
	}
	return reconcile.Indexed(ctx, r.Client, &sourcev1.HelmChartList{},
		client.InNamespace(src.GetNamespace()), client.MatchingFields{sourceIndex: kind + "/" + src.GetName()})
}

// Build is what the steps of one pass hand to each other.
type Build struct {
	// Output is the chart for the source kit to store, as a file; nothing
	// when Unchanged.
	sourcekit.Output
	// src is the resolved source object.
	src client.Object
	// repo is src when it is a HelmRepository.
	repo *sourcev1.HelmRepository
	// chartName and version name the chart built (version with its
	// metadata, the artifact's revision).
	chartName, version string
	// packaged says the chart was packaged here rather than stored as
	// downloaded.
	packaged bool
	// valuesFiles are the values files merged into the chart.
	valuesFiles []string
	// oci is the pulled OCI chart, for verification.
	oci *ociPull
}

// kit is the storage side of HelmCharts.
func (r *Reconciler) kit() *sourcekit.Kit[*sourcev1.HelmChart, Build] {
	return &sourcekit.Kit[*sourcev1.HelmChart, Build]{
		Kind:     sourcev1.HelmChartKind,
		Storage:  r.Storage,
		TempDir:  r.TempDir,
		Output:   func(b *Build) *sourcekit.Output { return &b.Output },
		Recorded: r.recorded,
	}
}

// housekeeping is the kit's storage housekeeping, then status.url kept in
// step with the advertised address.
func (r *Reconciler) housekeeping(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	err := r.kit().Housekeeping(ctx, obj, p, b)
	r.setURL(obj)
	return err
}

// record is the kit's record, with Flux's message and reason for the
// chart: what was pulled or packaged, at which version.
func (r *Reconciler) record(ctx context.Context, obj *sourcev1.HelmChart, p *reconcile.Pass, b *Build) error {
	if err := r.kit().Record(ctx, obj, p, b); err != nil {
		return err
	}
	p.MarkTrue(sourcev1.ArtifactInStorageCondition, b.reason(), b.summary())
	// The source revision the chart was last resolved from, whether or not
	// it made a new artifact.
	if a := sourceArtifact(b.src); a != nil {
		obj.Status.ObservedSourceArtifactRevision = a.Revision
	} else if b.oci != nil && b.oci.digest != "" {
		obj.Status.ObservedSourceArtifactRevision = b.oci.digest
	}
	return nil
}

// recorded notes what the new artifact was built from.
func (r *Reconciler) recorded(obj *sourcev1.HelmChart, b *Build) {
	obj.Status.ObservedChartName = b.chartName
	obj.Status.ObservedValuesFiles = b.valuesFiles
	r.setURL(obj)
}

// setURL points status.url at the stable link to the newest chart.
func (r *Reconciler) setURL(obj *sourcev1.HelmChart) {
	if obj.Status.Artifact == nil {
		return
	}
	dir := artifact.ObjectDir(sourcev1.HelmChartKind, obj.Namespace, obj.Name)
	obj.Status.URL = r.Storage.URL(dir + "/" + LatestLink)
}

// summary is Flux's message of a build: "pulled 'podinfo' chart with
// version '5.2.1'", "packaged ..." when it was packaged here.
func (b *Build) summary() string {
	action := "pulled"
	if b.packaged {
		action = "packaged"
	}
	s := fmt.Sprintf("%s '%s' chart with version '%s'", action, b.chartName, b.version)
	if len(b.valuesFiles) > 0 {
		s += fmt.Sprintf(" and merged values files [%s]", strings.Join(b.valuesFiles, " "))
	}
	return s
}

// reason is Ready's and ArtifactInStorage's reason after a build.
func (b *Build) reason() string {
	if b.packaged {
		return sourcev1.ChartPackageSucceededReason
	}
	return sourcev1.ChartPullSucceededReason
}

// sourceArtifact is the artifact of a source object, nil for none.
func sourceArtifact(src client.Object) *meta.Artifact {
	if s, ok := src.(reconcile.ArtifactSource); ok && s != nil {
		return s.GetArtifact()
	}
	return nil
}
