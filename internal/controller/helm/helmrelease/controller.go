// Package helmrelease reconciles HelmRelease objects: it resolves the chart
// (a HelmChart it generates from spec.chart, or spec.chartRef's artifact),
// composes the values, and brings the Helm release to the state the object
// asks for, one Helm action at a time (install, upgrade, test, rollback,
// uninstall, unlock), with the remediation the spec configures. The
// decisions are internal/engine/release's; the Helm plumbing is
// internal/engine/helmkube's; this package carries them out and records
// what happened in status, as Flux's helm-controller does.
package helmrelease

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/dependency"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/clientcache"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/kubeconfig"
	"github.com/driftless/driftless/internal/engine/postrender"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/reconcile"
)

// Reconciler holds what every reconciliation of a HelmRelease uses.
type Reconciler struct {
	// Client reads and writes Flux objects (through the shared cache).
	Client client.Client
	// APIReader reads the Secrets and ConfigMaps of valuesFrom and
	// kubeConfig: the API server directly, or a cache of every one under
	// the CacheSecretsAndConfigMaps gate.
	APIReader client.Reader
	// Config is the controller's own REST config.
	Config *rest.Config
	// Fetcher downloads chart artifacts from the storage server only.
	Fetcher *artifact.Fetcher
	// Storage is the storage server's advertised address; an
	// ExternalArtifact filed there must be filed under its own name.
	Storage  string
	Digester release.Digester
	Log      logr.Logger
	// NoCrossNamespaceRefs refuses charts and dependencies in other namespaces.
	NoCrossNamespaceRefs bool
	// DefaultServiceAccount is impersonated when serviceAccountName is empty.
	DefaultServiceAccount string
	// TempDir is where charts are unpacked; "" means the system default.
	TempDir string

	// Kubeconfig is what --insecure-kubeconfig-exec and
	// --insecure-kubeconfig-tls allow in spec.kubeConfig's Secret.
	Kubeconfig kubeconfig.Policy
	// Gates are the feature gates (--feature-gates) acting here.
	Gates Gates
	// Identities bounds the per-identity clients kept; the zero value is
	// clientcache's defaults.
	Identities clientcache.Options

	// identities are the clients of each identity the releases act as
	// (clientcache.Key of the REST config), made on first use.
	identities     *clientcache.Cache[*identity]
	identitiesOnce sync.Once
	exprs          dependency.Expressions
	// drift reconciles on the edits of released objects (WatchDrift).
	drift *driftWatch
}

// Kind declares the HelmRelease reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*helmv2.HelmRelease, State] {
	return reconcile.Kind[*helmv2.HelmRelease, State]{
		Name: helmv2.HelmReleaseKind,
		New:  func() *helmv2.HelmRelease { return &helmv2.HelmRelease{} },
		// TestSuccess (ignored failures leave Ready alone) and Drifted (warn
		// reports and stays Ready) are set by the steps themselves.
		Conditions: reconcile.ConditionSet{
			Owned: []string{helmv2.ReleasedCondition, helmv2.RemediatedCondition},
		},
		Plan: []reconcile.Step[*helmv2.HelmRelease, State]{
			{Name: "dependencies", Run: r.checkDependencies},
			{Name: "chart", Run: r.reconcileChart},
			{Name: "values", Run: r.composeValues},
			{Name: "target", Run: r.target},
			{Name: "release", Run: r.reconcileRelease},
		},
		Finalize:   r.finalize,
		Succeeded:  succeeded,
		RetryAfter: r.retryAfter,
		Indexes: []reconcile.Index[*helmv2.HelmRelease]{
			{Field: chartIndex, Keys: chartKeys},
			{Field: dependsOnIndex, Keys: dependsOnKeys},
			{Field: valuesFromIndex, Keys: valuesFromKeys},
		},
		Watches: r.watches(),
		Sources: r.driftSources(),
		// status.history is what tells a release this object made from one
		// made behind its back: a pass reading a cached copy that has not
		// seen the last pass's status would upgrade for nothing.
		ReadFresh: true,
	}
}

// State is what the steps of one pass hand to each other.
type State struct {
	// chart is the loaded chart, version its revision as status records it
	// (with +<digest> for an OCIRepository), ociDigest its artifact's.
	chart     *chartv2.Chart
	version   string
	ociDigest string
	// values are the composed values, configDigest their digest.
	values       map[string]any
	configDigest string
	renderer     *postrender.Renderer
	target       *helmkube.Target
	cfg          *action.Configuration
	// identity holds the release's REST config and its clients.
	identity *identity
}

// succeeded is Ready's reason and message after a pass that left nothing
// in trouble: what the last release action did, as Flux says it.
func succeeded(obj *helmv2.HelmRelease) (string, string) {
	if c := reconcile.Get(obj, helmv2.ReleasedCondition); c != nil && c.Status == "True" {
		return c.Reason, c.Message
	}
	return meta.SucceededReason, "release in sync"
}

// retryAfter is the wait before retrying a failed release under the
// RetryOnFailure strategy; 0 (the back-off) otherwise.
func (r *Reconciler) retryAfter(obj *helmv2.HelmRelease) time.Duration {
	action := obj.Status.LastAttemptedReleaseAction
	if action == "" {
		return 0
	}
	out := release.AfterFailure(action, r.remediationSpec(obj), obj.Status.Failures)
	return out.RetryAfter
}

// releaseRef names the release in messages: <namespace>/<name>.
func releaseRef(obj *helmv2.HelmRelease) string {
	return fmt.Sprintf("%s/%s", obj.GetReleaseNamespace(), obj.GetReleaseName())
}

// owner labels name the HelmRelease on its release records.
func ownerLabels(obj *helmv2.HelmRelease) map[string]string {
	return map[string]string{helmv2.NameLabel: obj.Name, helmv2.NamespaceLabel: obj.Namespace}
}

// chartIndex indexes HelmReleases by the chart source they read:
// "HelmChart/<ns>/<name>" for spec.chart's generated HelmChart, or
// "<Kind>/<ns>/<name>" for spec.chartRef.
const chartIndex = ".spec.chartSource"

func chartKeys(obj *helmv2.HelmRelease) []string {
	if ref := obj.Spec.ChartRef; ref != nil {
		ns := ref.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		return []string{ref.Kind + "/" + ns + "/" + ref.Name}
	}
	if tpl := obj.Spec.Chart; tpl != nil {
		return []string{sourcev1.HelmChartKind + "/" + chartNamespace(obj) + "/" + obj.GetHelmChartName()}
	}
	return nil
}

// dependsOnIndex indexes HelmReleases by the releases they depend on.
const dependsOnIndex = ".spec.dependsOn"

func dependsOnKeys(obj *helmv2.HelmRelease) []string {
	var keys []string
	for _, d := range obj.Spec.DependsOn {
		keys = append(keys, dependency.Key(obj, d))
	}
	return keys
}

// watches reconcile a HelmRelease when its chart artifact changes, a
// dependency becomes ready, or a watched valuesFrom ConfigMap or Secret
// changes.
func (r *Reconciler) watches() []reconcile.Watch {
	byChart := func(kind string) func(context.Context, client.Object) []ctrl.Request {
		return func(ctx context.Context, o client.Object) []ctrl.Request {
			return reconcile.Indexed(ctx, r.Client, &helmv2.HelmReleaseList{},
				client.MatchingFields{chartIndex: kind + "/" + o.GetNamespace() + "/" + o.GetName()})
		}
	}
	w := []reconcile.Watch{
		{Object: &sourcev1.HelmChart{}, Map: byChart(sourcev1.HelmChartKind), Predicates: artifactChanged()},
		{Object: &sourcev1.OCIRepository{}, Map: byChart(sourcev1.OCIRepositoryKind), Predicates: artifactChanged()},
		{Object: &helmv2.HelmRelease{}, Map: func(ctx context.Context, o client.Object) []ctrl.Request {
			return reconcile.Indexed(ctx, r.Client, &helmv2.HelmReleaseList{},
				client.MatchingFields{dependsOnIndex: o.GetNamespace() + "/" + o.GetName()})
		}, Predicates: readyChanged()},
	}
	// ExternalArtifact=false: no such chart is released, none is watched.
	if !r.Gates.NoExternalArtifact {
		w = append(w, reconcile.Watch{Object: &sourcev1.ExternalArtifact{}, Map: byChart(sourcev1.ExternalArtifactKind), Predicates: artifactChanged()})
	}
	// DisableConfigWatchers: valuesFrom is read at each pass only.
	if !r.Gates.DisableConfigWatchers {
		w = append(w, r.valuesFromWatches()...)
	}
	return w
}
