package kustomization

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/engine/kustomize"
	"github.com/driftless/driftless/internal/reconcile"
)

// Owner is the field manager and label group of everything a Kustomization applies.
var Owner = apply.Owner{Field: kustomizev1.FieldManager, Group: kustomizev1.GroupVersion.Group}

// Kind declares the Kustomization reconciliation for the reconcile skeleton.
func (r *Reconciler) Kind() reconcile.Kind[*kustomizev1.Kustomization, State] {
	return reconcile.Kind[*kustomizev1.Kustomization, State]{
		Name:       kustomizev1.KustomizationKind,
		New:        func() *kustomizev1.Kustomization { return &kustomizev1.Kustomization{} },
		Conditions: reconcile.ConditionSet{Owned: []string{meta.HealthyCondition}},
		// The steps, in Flux's order.
		Plan: []reconcile.Step[*kustomizev1.Kustomization, State]{
			{Name: "validate", Run: r.validate},
			{Name: "source", Run: r.source},
			{Name: "dependencies", Run: r.dependencies},
			{Name: "fetch", Run: timed("fetch", r.fetch)},
			{Name: "build", Run: timed("build", r.build)},
			{Name: "apply", Run: timed("apply", r.apply)},
			{Name: "prune", Run: timed("prune", r.prune)},
			{Name: "health", Run: r.healthCheck},
			{Name: "record", Run: r.record},
		},
		Finalize: r.finalize,
		Succeeded: func(obj *kustomizev1.Kustomization) (string, string) {
			return meta.ReconciliationSucceededReason, fmt.Sprintf("Applied revision: %s", obj.Status.LastAppliedRevision)
		},
		SucceededEvent: succeededEvent,
		RetryAfter:     func(obj *kustomizev1.Kustomization) time.Duration { return obj.GetRetryInterval() },
		Indexes:        indexes(),
		Watches:        r.watches(),
	}
}

// succeededEvent is the event of an apply that brought a new revision or a
// recovery, as kustomize-controller words it (an Alert's
// `.*reconciliation.*` matches it), marked for commit-status providers.
func succeededEvent(obj *kustomizev1.Kustomization, took time.Duration) (string, map[string]string) {
	message := fmt.Sprintf("Applied revision: %s, reconciliation finished in %s, next run in %s",
		obj.Status.LastAppliedRevision, took.Round(time.Millisecond), obj.GetRequeueAfter())
	return message, map[string]string{CommitStatusEventKey: eventv1.MetaCommitStatusUpdateValue}
}

// CommitStatusEventKey marks an event a commit-status provider reports.
const CommitStatusEventKey = "kustomize.toolkit.fluxcd.io/" + eventv1.MetaCommitStatusKey

// State is what the steps of one reconciliation hand to each other.
type State struct {
	src       artifactSource
	revision  string
	dir       string
	target    *target
	built     *kustomize.Result
	applied   *apply.ChangeSet
	inventory apply.Inventory
}

type stepRun = func(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State) error

// timed runs a step under spec.timeout, so that a tenant's slow server or
// endless build fails its own Kustomization instead of holding a worker
// that every other Kustomization needs.
func timed(name string, f stepRun) stepRun {
	return func(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State) error {
		ctx, cancel := context.WithTimeout(ctx, obj.GetTimeout())
		defer cancel()
		err := f(ctx, obj, p, st)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s timed out after %s (spec.timeout): %w", name, obj.GetTimeout(), err)
		}
		return err
	}
}

// validate refuses what can never work before touching anything.
func (r *Reconciler) validate(_ context.Context, obj *kustomizev1.Kustomization, _ *reconcile.Pass, _ *State) error {
	if _, err := health.CompileChecks(obj.Spec.HealthCheckExprs); err != nil {
		return &reconcile.StallingError{Reason: meta.InvalidCELExpressionReason, Err: err}
	}
	if r.NoCrossNamespaceRefs {
		for _, hc := range obj.Spec.HealthChecks {
			if hc.Namespace != "" && hc.Namespace != obj.Namespace {
				return reconcile.Stalling(meta.AccessDeniedReason,
					"cannot check the health of %s %s/%s, cross-namespace references have been disabled", hc.Kind, hc.Namespace, hc.Name)
			}
		}
	}
	return nil
}

func (r *Reconciler) source(ctx context.Context, obj *kustomizev1.Kustomization, _ *reconcile.Pass, st *State) error {
	src, err := r.resolveSource(ctx, obj)
	if err != nil {
		return err
	}
	st.src, st.revision = src, src.GetArtifact().Revision
	return nil
}

func (r *Reconciler) dependencies(ctx context.Context, obj *kustomizev1.Kustomization, _ *reconcile.Pass, st *State) error {
	return r.checkDependencies(ctx, obj, st.src)
}

// fetch downloads and verifies the artifact into a temporary directory.
func (r *Reconciler) fetch(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State) error {
	obj.Status.LastAttemptedRevision = st.revision
	p.EventMetadata[kustomizev1.RevisionEventKey] = st.revision
	if origin := st.src.GetArtifact().Metadata[meta.OCIRevisionAnnotation]; origin != "" {
		p.EventMetadata[kustomizev1.OriginRevisionEventKey] = origin
	}
	dir, err := r.unpacker().Unpack(ctx, p, st.src,
		fmt.Sprintf("Fetching manifests for revision %s with a timeout of %s", st.revision, obj.GetTimeout()),
		fmt.Sprintf("kustomization-%s-%s-", obj.Namespace, obj.Name))
	if err != nil {
		return err
	}
	st.dir = dir
	return nil
}

// build runs kustomize on the path with the spec's transformations,
// decryption and post-build substitution. Nothing is applied from a build
// that fails.
func (r *Reconciler) build(ctx context.Context, obj *kustomizev1.Kustomization, _ *reconcile.Pass, st *State) error {
	t, err := r.target(ctx, obj)
	if err != nil {
		return err
	}
	st.target = t
	opts := kustomize.SpecOptions(&obj.Spec)
	opts.NoRemoteBases = r.NoRemoteBases
	if err := r.decryption(ctx, obj, &opts); err != nil {
		return err
	}
	if err := r.substitution(ctx, obj, &opts); err != nil {
		return err
	}
	built, err := kustomize.Build(ctx, st.dir, opts)
	if errors.Is(err, kustomize.ErrPathNotFound) {
		return reconcile.Failed(meta.ArtifactFailedReason, "%w", err)
	}
	if err != nil {
		return reconcile.Failed(meta.BuildFailedReason, "%w", err)
	}
	st.built = built
	return nil
}

// apply applies the built objects server-side and records the inventory.
func (r *Reconciler) apply(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State) error {
	previous := inventoryOf(obj.Status.Inventory)
	var cached func(apply.ObjectRef, schema.GroupVersionResource) (*unstructured.Unstructured, bool)
	if r.Health != nil && st.target.health == r.Health {
		// The controller's own cluster and identity: the shared informers
		// of the health checks hold what Kustomizations applied, and stand
		// in for the reads before the dry-runs.
		cache := r.Health.Cache()
		cached = func(ref apply.ObjectRef, gvr schema.GroupVersionResource) (*unstructured.Unstructured, bool) {
			return cache.Cached(gvr, ref.Namespace, ref.Name)
		}
	}
	cs, err := st.target.apply.ApplyAll(ctx, st.built.Objects, apply.ApplyOptions{
		Previous:         &previous,
		Cached:           cached,
		OwnerLabels:      Owner.Labels(obj.Name, obj.Namespace),
		Force:            obj.Spec.Force,
		Ignore:           ignoreRules(obj.Spec.Ignore),
		OverrideManagers: r.OverrideManagers,
		Concurrency:      r.ConcurrentSSA,
	})
	if cs != nil && cs.Changed() {
		p.Event("Normal", meta.ProgressingReason, cs.String())
	}
	if err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "%w", err)
	}
	st.applied = cs
	st.inventory = cs.Inventory()
	return nil
}

// prune deletes what the previous inventory had and this one does not;
// an object whose deletion failed stays in the inventory to be tried again.
func (r *Reconciler) prune(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State) error {
	old := inventoryOf(obj.Status.Inventory)
	defer func() { obj.Status.Inventory = statusInventory(st.inventory) }()
	if !obj.Spec.Prune {
		return nil
	}
	stale, err := apply.Diff(old, st.inventory)
	if err != nil {
		return reconcile.Failed(meta.PruneFailedReason, "read inventory: %w", err)
	}
	if len(stale) == 0 {
		return nil
	}
	cs, err := st.target.apply.Prune(ctx, stale, apply.PruneOptions{OwnerLabels: Owner.Labels(obj.Name, obj.Namespace)})
	if cs != nil && cs.Changed() {
		p.Event("Normal", meta.ProgressingReason, cs.String())
	}
	if err != nil {
		st.inventory = st.inventory.Add(apply.FailedDeletes(err)...)
		return reconcile.Failed(meta.PruneFailedReason, "%w", err)
	}
	return nil
}

// healthCheck waits, from watch events, for the applied objects (wait:
// true) or the listed ones (healthChecks) to be ready.
func (r *Reconciler) healthCheck(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State) error {
	refs, err := r.healthRefs(obj, st)
	if err != nil {
		return reconcile.Stalling(meta.HealthCheckFailedReason, "%v", err)
	}
	if len(refs) == 0 {
		p.Delete(meta.HealthyCondition)
		return nil
	}
	ctx, done := r.trackWait(ctx, obj, st.revision)
	defer done()
	report, err := r.waitHealthy(ctx, obj, p, st, refs)
	if err != nil {
		return reconcile.FailedOn(meta.HealthyCondition, health.Reason(err), err)
	}
	p.MarkTrue(meta.HealthyCondition, meta.SucceededReason,
		fmt.Sprintf("Health check passed in %s", report.Duration.Round(time.Millisecond)))
	return nil
}

// quickWait is how long a health check may take before the status says
// that it is running: most objects are ready at once, and that status
// write is then saved.
const quickWait = reconcile.DefaultProgressAfter

// waitHealthy waits for refs, first briefly without a word, then, if they
// are not ready yet, with the status saying so for the rest of the timeout.
func (r *Reconciler) waitHealthy(ctx context.Context, obj *kustomizev1.Kustomization, p *reconcile.Pass, st *State, refs []health.ObjectRef) (*health.Report, error) {
	start, timeout := time.Now(), obj.GetTimeout()
	opts := health.WaitOptions{Timeout: timeout, CustomChecks: obj.Spec.HealthCheckExprs}
	checker := st.target.health
	if !obj.Spec.Wait {
		checker = st.target.listed // spec.healthChecks: read as the identity
	}
	if timeout > 2*quickWait {
		quick := opts
		quick.Timeout = quickWait
		report, err := checker.Wait(ctx, refs, quick)
		var timedOut *health.TimeoutError
		if !errors.As(err, &timedOut) {
			return report, err
		}
		opts.Timeout = timeout - quickWait
	}
	msg := fmt.Sprintf("Running health checks for revision %s with a timeout of %s", st.revision, timeout)
	if err := p.Progress(meta.ProgressingReason, msg); err != nil {
		return nil, err
	}
	report, err := checker.Wait(ctx, refs, opts)
	if report != nil {
		report.Duration = time.Since(start)
	}
	return report, err
}

// healthRefs lists what to wait for, with the version each object has after
// the apply so that an older cached copy is not taken for the new one.
func (r *Reconciler) healthRefs(obj *kustomizev1.Kustomization, st *State) ([]health.ObjectRef, error) {
	versions := map[string]string{}
	skipped := map[string]bool{}
	for _, c := range st.applied.Entries {
		versions[c.Ref.ID()] = c.ResourceVersion
		skipped[c.Ref.ID()] = c.Action == apply.Skipped
	}
	var refs []health.ObjectRef
	if obj.Spec.Wait {
		for _, o := range st.built.Objects {
			id := apply.RefOf(o).ID()
			if skipped[id] || isSelf(obj, o) {
				continue
			}
			ref := health.RefFromObject(o)
			ref.ResourceVersion = versions[id]
			ref.Owned = true // applied with the owner labels
			refs = append(refs, ref)
		}
		return refs, nil
	}
	for _, hc := range obj.Spec.HealthChecks {
		ns := hc.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		ref, err := health.RefFromAPIVersion(hc.APIVersion, hc.Kind, ns, hc.Name)
		if err != nil {
			return nil, fmt.Errorf("healthChecks entry %s/%s: %w", hc.Kind, hc.Name, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

func isSelf(obj *kustomizev1.Kustomization, o *unstructured.Unstructured) bool {
	return o.GetKind() == kustomizev1.KustomizationKind && o.GetName() == obj.Name && o.GetNamespace() == obj.Namespace
}

// record notes the applied revision and a history snapshot.
func (r *Reconciler) record(_ context.Context, obj *kustomizev1.Kustomization, _ *reconcile.Pass, st *State) error {
	obj.Status.LastAppliedRevision = st.revision
	obj.Status.LastAppliedOriginRevision = st.src.GetArtifact().Metadata[meta.OCIRevisionAnnotation]
	recordHistory(obj, st.built.Digest, st.revision, r.now())
	return nil
}

// ignoreRules converts spec.ignore for the apply engine.
func ignoreRules(in []kustomizev1.IgnoreRule) []apply.IgnoreRule {
	if in == nil {
		return nil
	}
	out := make([]apply.IgnoreRule, len(in))
	for i, r := range in {
		out[i] = apply.IgnoreRule{Paths: r.Paths, Target: r.Target}
	}
	return out
}
