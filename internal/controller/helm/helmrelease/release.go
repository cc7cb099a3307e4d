package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	ri "helm.sh/helm/v4/pkg/release"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/reconcile"
)

// maxActions bounds the Helm actions of one pass: a pass chains actions
// to a stable state (unlock, upgrade, test), never loops.
const maxActions = 8

// reconcileRelease brings the release to the state the object asks for:
// it reads the latest record in Helm storage, lets release.Decide say where
// it stands, runs the one action that follows, and again, until the
// release is in sync or an action failed (then the spec's remediation
// runs and the pass ends, to retry with back-off or stall).
func (r *Reconciler) reconcileRelease(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	if err := r.uninstallMoved(ctx, obj, p, st); err != nil {
		return err
	}
	r.handleReset(obj)
	if obj.Status.LastAttemptedRevision != st.version || obj.Status.LastAttemptedConfigDigest != st.configDigest ||
		obj.Status.LastAttemptedGeneration != obj.Generation {
		resetCounters(obj) // a new chart, new values or a new spec deserve fresh retries
	}
	force := forceRequested(obj)
	// takeForce spends forceAt on the action about to run.
	takeForce := func() {
		if force {
			force = false
			obj.Status.LastHandledForceAt = obj.GetAnnotations()[meta.ForceRequestAnnotation]
		}
	}
	obj.Status.LastAttemptedRevision, obj.Status.LastAttemptedRevisionDigest = st.version, st.ociDigest
	obj.Status.LastAttemptedConfigDigest, obj.Status.LastAttemptedGeneration = st.configDigest, obj.Generation
	p.Keep(helmv2.ReleasedCondition)
	p.Keep(helmv2.RemediatedCondition)

	for range maxActions {
		rls, stored, err := r.latest(st, obj)
		if err != nil {
			return err
		}
		want := r.desired(obj, st)
		verdict := release.Decide(stored, want)
		log.FromContext(ctx).V(1).Info("release state", "state", verdict.State, "reason", verdict.Reason)
		if err := r.exhausted(obj, verdict, force); err != nil {
			return err
		}
		switch verdict.State {
		case release.InSync:
			if !force {
				return r.settled(ctx, obj, p, st, rls)
			}
			takeForce()
			if err := r.upgrade(ctx, obj, p, st); err != nil {
				return err
			}
		case release.OwnedByAnother:
			return reconcile.Stalling(meta.ReconciliationFailedReason,
				"%s; two HelmReleases must not manage one release: rename this one's releaseName or targetNamespace", verdict.Reason)
		case release.Locked:
			if err := r.unlock(obj, st); err != nil {
				return err
			}
		case release.Absent:
			takeForce()
			if err := r.install(ctx, obj, p, st); err != nil {
				return err
			}
		case release.Unmanaged, release.OutOfSync, release.Failed:
			takeForce()
			if err := r.upgrade(ctx, obj, p, st); err != nil {
				return err
			}
		case release.Untested:
			if err := r.test(ctx, obj, p, st); err != nil {
				return err
			}
		}
	}
	return reconcile.Failed(meta.ReconciliationFailedReason, "%s did not settle after %d Helm actions in one pass", releaseRef(obj), maxActions)
}

// exhausted stalls a release that would take another install or upgrade
// while the retries of the last failed action are spent: only a new chart,
// new values, a new generation, resetAt or forceAt try again, as Flux.
// A request to reconcile does not.
func (r *Reconciler) exhausted(obj *helmv2.HelmRelease, verdict release.Verdict, force bool) error {
	switch verdict.State {
	case release.Absent, release.Unmanaged, release.OutOfSync, release.Failed:
	default:
		return nil
	}
	last := obj.Status.LastAttemptedReleaseAction
	if force || last == "" || actionFailures(obj, last) == 0 {
		return nil
	}
	out := release.AfterFailure(last, r.remediationSpec(obj), actionFailures(obj, last))
	if !out.Exhausted {
		return nil
	}
	why := verdict.Reason
	if c := reconcile.Get(obj, helmv2.ReleasedCondition); c != nil && c.Status == metav1.ConditionFalse {
		why = c.Message
	}
	return reconcile.Stalling(helmv2.RetriesExceededReason, "%s; %s", why, out.Message)
}

// desired is what release.Decide compares storage with.
func (r *Reconciler) desired(obj *helmv2.HelmRelease, st *State) release.Desired {
	want := release.Desired{
		Name: obj.Name, Namespace: obj.Namespace,
		ChartName: st.chart.Metadata.Name, ChartVersion: st.chart.Metadata.Version,
		ConfigDigest: st.configDigest, Status: &obj.Status,
		TestEnabled: obj.Spec.Test != nil && obj.Spec.Test.Enable,
	}
	want.PostRenderersDigest, want.CommonMetadataDigest = postRenderDigests(obj)
	want.PostRenderStrategy = st.renderer.Strategy()
	want.IgnoreTestFailures = release.IgnoreTestFailures(lastAction(obj), &obj.Spec)
	return want
}

func lastAction(obj *helmv2.HelmRelease) helmv2.ReleaseAction {
	if a := obj.Status.LastAttemptedReleaseAction; a != "" {
		return a
	}
	return helmv2.ReleaseActionInstall
}

// latest reads the latest record of the release from Helm storage, and
// what release.Decide compares of it; both nil when there is none.
func (r *Reconciler) latest(st *State, obj *helmv2.HelmRelease) (*helmrelease.Release, *release.Stored, error) {
	rls, err := lastRecord(st.cfg, obj.GetReleaseName())
	if err != nil {
		return nil, nil, reconcile.Failed(helmv2.GetLastReleaseFailedReason, "failed to read release %s from storage in namespace '%s': %w",
			releaseRef(obj), obj.GetStorageNamespace(), err)
	}
	stored, err := r.Digester.Observe(rls)
	if err != nil {
		return nil, nil, reconcile.Failed(helmv2.GetLastReleaseFailedReason, "%w", err)
	}
	return rls, stored, nil
}

// lastRecord returns the latest release record, nil when there is none.
// Records Helm cannot decode are skipped, as Helm's storage skips them
// (its Last fails instead when no record of the name decodes: a Secret
// labelled as a record with garbage data would block the release).
func lastRecord(cfg *action.Configuration, name string) (*helmrelease.Release, error) {
	history, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var last *helmrelease.Release
	for _, h := range history {
		rls, err := asRelease(h)
		if err != nil {
			return nil, err
		}
		if rls != nil && (last == nil || rls.Version > last.Version) {
			last = rls
		}
	}
	return last, nil
}

func asRelease(rel ri.Releaser) (*helmrelease.Release, error) {
	if rel == nil {
		return nil, nil
	}
	r, ok := rel.(*helmrelease.Release)
	if !ok {
		return nil, fmt.Errorf("release record of an unknown type %T", rel)
	}
	return r, nil
}

// settled records a release in sync (rls, as latest just read it): its
// inventory and Released, then looks for drift.
func (r *Reconciler) settled(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State, rls *helmrelease.Release) error {
	obj.Status.LastReleaseRevision = rls.Version
	obj.Status.ObservedPostRenderersDigest, obj.Status.ObservedCommonMetadataDigest = postRenderDigests(obj)
	inv, err := inventory(rls, st.target)
	if err != nil {
		return reconcile.Failed(helmv2.InventoryBuildFailedReason, "failed to build the inventory of %s: %w", releaseRef(obj), err)
	}
	obj.Status.Inventory = inv
	if c := reconcile.Get(obj, helmv2.ReleasedCondition); c == nil || c.Status != metav1.ConditionTrue {
		reconcile.MarkTrue(obj, helmv2.ReleasedCondition, helmv2.UpgradeSucceededReason,
			fmt.Sprintf("Helm release %s.v%d with chart %s@%s is in sync", releaseRef(obj), rls.Version, st.chart.Metadata.Name, st.version))
	}
	return r.checkDrift(ctx, obj, p, st, rls)
}

// afterAction records an install or upgrade: the snapshot of the record
// it left, Released, events; on failure the counters and the spec's
// remediation, and an error that ends the pass.
func (r *Reconciler) afterAction(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State,
	act helmv2.ReleaseAction, started time.Time, actErr error) error {
	obj.Status.LastAttemptedReleaseAction = act
	obj.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: time.Since(started).Round(time.Millisecond)}
	rls, _ := lastRecord(st.cfg, obj.GetReleaseName())
	if rls != nil && rls.Name == obj.GetReleaseName() {
		if err := r.snapshot(obj, st, rls); err != nil {
			return err
		}
	}
	ref := releaseRef(obj)
	if rls != nil {
		ref = fmt.Sprintf("%s.v%d", releaseRef(obj), rls.Version)
	}
	okReason, failReason, verb := helmv2.InstallSucceededReason, helmv2.InstallFailedReason, "install"
	if act == helmv2.ReleaseActionUpgrade {
		okReason, failReason, verb = helmv2.UpgradeSucceededReason, helmv2.UpgradeFailedReason, "upgrade"
	}
	if actErr == nil {
		obj.Status.ObservedPostRenderersDigest, obj.Status.ObservedCommonMetadataDigest = postRenderDigests(obj)
		msg := fmt.Sprintf("Helm %s succeeded for release %s with chart %s@%s", verb, ref, st.chart.Metadata.Name, st.version)
		p.MarkTrue(helmv2.ReleasedCondition, okReason, msg)
		reconcile.Delete(obj, helmv2.TestSuccessCondition)
		reconcile.Delete(obj, helmv2.RemediatedCondition) // a success ends the remediation story
		p.Event(corev1.EventTypeNormal, okReason, msg)
		return nil
	}
	countFailure(obj, act)
	msg := fmt.Sprintf("Helm %s failed for release %s with chart %s@%s: %s", verb, ref, st.chart.Metadata.Name, st.version,
		actionError(actErr, obj, act, st.values, rls))
	p.MarkFalse(helmv2.ReleasedCondition, failReason, msg)
	p.Event(corev1.EventTypeWarning, failReason, msg)
	if !wroteRecord(rls) {
		// Nothing reached the cluster: no rollback or uninstall, only
		// the retries (as Flux, which remediates failed releases only).
		if out := release.AfterFailure(act, r.remediationSpec(obj), actionFailures(obj, act)); out.Exhausted {
			return reconcile.Stalling(helmv2.RetriesExceededReason, "%s; %s", msg, out.Message)
		}
		return reconcile.Failed(failReason, "%s", msg)
	}
	return r.remediate(ctx, obj, p, st, act, failReason, msg)
}

// remediate runs what the spec says follows a failure of act, and returns
// the error that ends the pass: retried with back-off, after the
// RetryOnFailure interval, or stalled once retries are exhausted.
func (r *Reconciler) remediate(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State,
	act helmv2.ReleaseAction, reason, msg string) error {
	out := release.AfterFailure(act, r.remediationSpec(obj), actionFailures(obj, act))
	switch out.Remedy {
	case release.Rollback:
		if err := r.rollback(obj, p, st); err != nil {
			return reconcile.Failed(helmv2.RollbackFailedReason, "%s; rollback failed: %w", msg, err)
		}
	case release.Uninstall:
		if err := r.uninstall(ctx, obj, p, st, true); err != nil {
			return reconcile.Failed(helmv2.UninstallFailedReason, "%s; uninstall failed: %w", msg, err)
		}
	}
	if out.Exhausted {
		return reconcile.Stalling(helmv2.RetriesExceededReason, "%s; %s", msg, out.Message)
	}
	return reconcile.Failed(reason, "%s", msg)
}

// snapshot records a release record in status.history.
func (r *Reconciler) snapshot(obj *helmv2.HelmRelease, st *State, rls *helmrelease.Release) error {
	// The record's own chart version (an OCIRepository chart's carries its
	// +<digest>); the artifact digest only when the record is of the chart
	// this pass releases, not of one a rollback went back to.
	ociDigest := ""
	if rls.Chart != nil && rls.Chart.Metadata != nil && rls.Chart.Metadata.Version == st.version {
		ociDigest = st.ociDigest
	}
	snap, err := r.Digester.Snapshot(rls, "", ociDigest)
	if err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "%w", err)
	}
	// A test's outcome stays with its record: the record's hooks tell when
	// its tests ran; a record unchanged since a run without test hooks keeps
	// the run's (empty) result. A record installed afresh under the same
	// version (after an uninstall) has not been tested.
	if hooks := testHooks(rls); len(hooks) > 0 {
		snap.TestHooks = &hooks
	} else if prev := obj.Status.History; len(prev) > 0 && prev[0].Digest == snap.Digest && prev[0].Name == snap.Name {
		snap.TestHooks = prev[0].TestHooks
	}
	obj.Status.History = release.Record(obj.Status.History, snap, obj.GetMaxHistory())
	obj.Status.LastReleaseRevision = snap.Version
	return nil
}

// handleReset resets the failure counters when resetAt asks for it.
func (r *Reconciler) handleReset(obj *helmv2.HelmRelease) {
	at := obj.GetAnnotations()[meta.ResetRequestAnnotation]
	if at == "" || at == obj.Status.LastHandledResetAt {
		return
	}
	resetCounters(obj)
	obj.Status.LastHandledResetAt = at
}

func resetCounters(obj *helmv2.HelmRelease) {
	obj.Status.Failures, obj.Status.InstallFailures, obj.Status.UpgradeFailures = 0, 0, 0
}

// forceRequested tells whether forceAt asks for a one-off install or
// upgrade: set, not handled yet, and equal to requestedAt, as Flux wants.
func forceRequested(obj *helmv2.HelmRelease) bool {
	a := obj.GetAnnotations()
	at := a[meta.ForceRequestAnnotation]
	return at != "" && at != obj.Status.LastHandledForceAt && at == a[meta.ReconcileRequestAnnotation]
}

// countFailure counts a failure of act (its tests' included).
func countFailure(obj *helmv2.HelmRelease, act helmv2.ReleaseAction) {
	obj.Status.Failures++
	if act == helmv2.ReleaseActionInstall {
		obj.Status.InstallFailures++
	} else {
		obj.Status.UpgradeFailures++
	}
}

func actionFailures(obj *helmv2.HelmRelease, act helmv2.ReleaseAction) int64 {
	if act == helmv2.ReleaseActionInstall {
		return obj.Status.InstallFailures
	}
	return obj.Status.UpgradeFailures
}

// uninstallMoved uninstalls the release this HelmRelease made last when
// its name, namespace, storage namespace or chart name changed since, as
// Flux does: the new release is installed afresh, the old one does not
// linger. A record the HelmRelease's labels do not name is left alone.
func (r *Reconciler) uninstallMoved(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	oldStorage := obj.Status.StorageNamespace
	newStorage := obj.GetStorageNamespace()
	if oldStorage == "" {
		oldStorage = newStorage
	}
	if len(obj.Status.History) == 0 {
		obj.Status.StorageNamespace = newStorage
		return nil
	}
	prev := obj.Status.History[0]
	if prev.Name == obj.GetReleaseName() && prev.Namespace == obj.GetReleaseNamespace() &&
		oldStorage == newStorage && prev.ChartName == st.chart.Metadata.Name {
		obj.Status.StorageNamespace = newStorage
		return nil
	}
	old := fmt.Sprintf("%s/%s", prev.Namespace, prev.Name)
	cfg, err := st.target.ActionConfig(helmkube.ActionOptions{Namespace: prev.Namespace, StorageNamespace: oldStorage, Context: ctx})
	if err != nil {
		return reconcile.Failed(helmv2.InitFailedReason, "failed to initialise Helm for the former release %s: %w", old, err)
	}
	rls, err := lastRecord(cfg, prev.Name)
	if err != nil {
		return reconcile.Failed(helmv2.GetLastReleaseFailedReason, "failed to read the former release %s from storage in namespace '%s': %w", old, oldStorage, err)
	}
	if rls != nil && rls.Labels[helmv2.NameLabel] == obj.Name && rls.Labels[helmv2.NamespaceLabel] == obj.Namespace {
		if _, err := r.newUninstall(cfg, obj).Run(prev.Name); err != nil {
			msg := fmt.Sprintf("Helm uninstall failed for the former release %s: %s", old, err)
			p.Event(corev1.EventTypeWarning, helmv2.UninstallFailedReason, msg)
			return reconcile.Failed(helmv2.UninstallFailedReason, "%s", msg)
		}
		p.Event(corev1.EventTypeNormal, helmv2.UninstallSucceededReason, fmt.Sprintf(
			"Helm uninstall succeeded for the former release %s: the release is now %s with chart %s",
			old, releaseRef(obj), st.chart.Metadata.Name))
	}
	obj.Status.History = nil
	obj.Status.StorageNamespace = newStorage
	resetCounters(obj)
	return nil
}
