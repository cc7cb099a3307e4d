package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	"helm.sh/helm/v4/pkg/release/common"
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
	obj.Status.LastAttemptedRevision, obj.Status.LastAttemptedRevisionDigest = st.version, st.ociDigest
	obj.Status.LastAttemptedConfigDigest, obj.Status.LastAttemptedGeneration = st.configDigest, obj.Generation
	p.Keep(helmv2.ReleasedCondition)
	p.Keep(helmv2.RemediatedCondition)

	for range maxActions {
		stored, err := r.latest(st, obj)
		if err != nil {
			return err
		}
		want := r.desired(obj, st)
		verdict := release.Decide(stored, want)
		log.FromContext(ctx).V(1).Info("release state", "state", verdict.State, "reason", verdict.Reason)
		if err := exhausted(obj, verdict, force); err != nil {
			return err
		}
		switch verdict.State {
		case release.InSync:
			if !force {
				return r.settled(ctx, obj, p, st)
			}
			force = false
			obj.Status.LastHandledForceAt = obj.GetAnnotations()[meta.ForceRequestAnnotation]
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
			if force {
				force = false
				obj.Status.LastHandledForceAt = obj.GetAnnotations()[meta.ForceRequestAnnotation]
			}
			if err := r.install(ctx, obj, p, st); err != nil {
				return err
			}
		case release.Unmanaged, release.OutOfSync:
			if force {
				force = false
				obj.Status.LastHandledForceAt = obj.GetAnnotations()[meta.ForceRequestAnnotation]
			}
			if err := r.upgrade(ctx, obj, p, st); err != nil {
				return err
			}
		case release.Untested:
			if err := r.test(ctx, obj, p, st); err != nil {
				return err
			}
		case release.Failed:
			force = false
			if err := r.upgrade(ctx, obj, p, st); err != nil {
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
func exhausted(obj *helmv2.HelmRelease, verdict release.Verdict, force bool) error {
	switch verdict.State {
	case release.Absent, release.Unmanaged, release.OutOfSync, release.Failed:
	default:
		return nil
	}
	last := obj.Status.LastAttemptedReleaseAction
	if force || last == "" || actionFailures(obj, last) == 0 {
		return nil
	}
	out := release.AfterFailure(last, &obj.Spec, actionFailures(obj, last))
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
		PostRenderersDigest: obj.Status.ObservedPostRenderersDigest, CommonMetadataDigest: obj.Status.ObservedCommonMetadataDigest,
		TestEnabled: obj.Spec.Test != nil && obj.Spec.Test.Enable,
	}
	want.PostRenderersDigest, want.CommonMetadataDigest = postRenderDigests(obj)
	want.IgnoreTestFailures = release.IgnoreTestFailures(lastAction(obj), &obj.Spec)
	return want
}

func lastAction(obj *helmv2.HelmRelease) helmv2.ReleaseAction {
	if a := obj.Status.LastAttemptedReleaseAction; a != "" {
		return a
	}
	return helmv2.ReleaseActionInstall
}

// latest reads the latest record of the release from Helm storage; nil
// when there is none.
func (r *Reconciler) latest(st *State, obj *helmv2.HelmRelease) (*release.Stored, error) {
	rls, err := lastRecord(st.cfg, obj.GetReleaseName())
	if err != nil {
		return nil, reconcile.Failed(helmv2.GetLastReleaseFailedReason, "failed to read release %s from storage in namespace '%s': %w",
			releaseRef(obj), obj.GetStorageNamespace(), err)
	}
	stored, err := r.Digester.Observe(rls)
	if err != nil {
		return nil, reconcile.Failed(helmv2.GetLastReleaseFailedReason, "%w", err)
	}
	return stored, nil
}

// lastRecord returns the latest release record, nil when there is none.
func lastRecord(cfg *action.Configuration, name string) (*helmrelease.Release, error) {
	rel, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return asRelease(rel)
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

// settled records a release in sync: its snapshot, its inventory and
// Released, unless a failure is being reported.
func (r *Reconciler) settled(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	rls, err := lastRecord(st.cfg, obj.GetReleaseName())
	if err != nil || rls == nil {
		return reconcile.Failed(helmv2.GetLastReleaseFailedReason, "failed to read release %s: %v", releaseRef(obj), err)
	}
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

// install runs a Helm install with the spec's install options.
func (r *Reconciler) install(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	in := obj.Spec.Install
	if in == nil {
		in = &helmv2.Install{}
	}
	a := action.NewInstall(st.cfg)
	a.ReleaseName, a.Namespace = obj.GetReleaseName(), obj.GetReleaseNamespace()
	a.Timeout = timeoutOf(in.Timeout, obj)
	a.WaitStrategy, a.WaitForJobs = waitOf(obj, in.DisableWait, in.DisableWaitForJobs)
	a.DisableHooks, a.DisableOpenAPIValidation, a.SkipSchemaValidation = in.DisableHooks, in.DisableOpenAPIValidation, in.DisableSchemaValidation
	a.Replace, a.CreateNamespace, a.TakeOwnership = in.Replace, in.CreateNamespace, !in.DisableTakeOwnership
	a.SkipCRDs = in.SkipCRDs || in.CRDs == helmv2.Skip
	a.ServerSideApply = in.ServerSideApply == nil || *in.ServerSideApply
	a.ForceConflicts = a.ServerSideApply
	a.Labels = ownerLabels(obj)
	a.PostRenderer, a.PostRenderStrategy = st.renderer, action.PostRenderStrategy(st.renderer.Strategy())
	a.Description = "Installed by Driftless"
	started := time.Now()
	_, err := a.RunWithContext(ctx, st.chart, st.values)
	return r.afterAction(ctx, obj, p, st, helmv2.ReleaseActionInstall, started, err)
}

// upgrade runs a Helm upgrade with the spec's upgrade options; it also
// adopts a release made by hand and retries a failed one.
func (r *Reconciler) upgrade(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	up := obj.Spec.Upgrade
	if up == nil {
		up = &helmv2.Upgrade{}
	}
	a := action.NewUpgrade(st.cfg)
	a.Namespace = obj.GetReleaseNamespace()
	a.Timeout = timeoutOf(up.Timeout, obj)
	a.WaitStrategy, a.WaitForJobs = waitOf(obj, up.DisableWait, up.DisableWaitForJobs)
	a.DisableHooks, a.DisableOpenAPIValidation, a.SkipSchemaValidation = up.DisableHooks, up.DisableOpenAPIValidation, up.DisableSchemaValidation
	a.ForceReplace, a.CleanupOnFail, a.TakeOwnership = up.Force, up.CleanupOnFail, !up.DisableTakeOwnership
	a.ReuseValues, a.ResetValues = up.PreserveValues, !up.PreserveValues
	a.MaxHistory = obj.GetMaxHistory()
	a.ServerSideApply = ssaMode(up.ServerSideApply)
	a.ForceConflicts = a.ServerSideApply != "false"
	a.Labels = ownerLabels(obj)
	a.PostRenderer, a.PostRenderStrategy = st.renderer, action.PostRenderStrategy(st.renderer.Strategy())
	a.Description = "Upgraded by Driftless"
	started := time.Now()
	_, err := a.RunWithContext(ctx, obj.GetReleaseName(), st.chart, st.values)
	return r.afterAction(ctx, obj, p, st, helmv2.ReleaseActionUpgrade, started, err)
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
	obj.Status.Failures++
	if act == helmv2.ReleaseActionInstall {
		obj.Status.InstallFailures++
	} else {
		obj.Status.UpgradeFailures++
	}
	msg := fmt.Sprintf("Helm %s failed for release %s with chart %s@%s: %s", verb, ref, st.chart.Metadata.Name, st.version, actErr)
	p.MarkFalse(helmv2.ReleasedCondition, failReason, msg)
	p.Event(corev1.EventTypeWarning, failReason, msg)
	return r.remediate(ctx, obj, p, st, act, failReason, msg)
}

// remediate runs what the spec says follows a failure of act, and returns
// the error that ends the pass: retried with back-off, after the
// RetryOnFailure interval, or stalled once retries are exhausted.
func (r *Reconciler) remediate(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State,
	act helmv2.ReleaseAction, reason, msg string) error {
	out := release.AfterFailure(act, &obj.Spec, actionFailures(obj, act))
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

// rollback rolls back to the newest successful release before the one
// being remediated (status.history[0], which may be deployed with failed
// tests); when the history does not know one, to the record before it, as
// Helm's rollback to version 0 does.
func (r *Reconciler) rollback(obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	target := 0
	for _, s := range obj.Status.History[min(1, len(obj.Status.History)):] {
		if s.Status == release.StatusDeployed || s.Status == release.StatusSuperseded {
			target = s.Version
			break
		}
	}
	if h := obj.Status.History; target == 0 && len(h) > 0 && h[0].Version > 1 {
		target = h[0].Version - 1
	}
	rb := obj.Spec.Rollback
	if rb == nil {
		rb = &helmv2.Rollback{}
	}
	a := action.NewRollback(st.cfg)
	a.Version = target
	a.Timeout = timeoutOf(rb.Timeout, obj)
	a.WaitStrategy, a.WaitForJobs = waitOf(obj, rb.DisableWait, rb.DisableWaitForJobs)
	a.DisableHooks, a.ForceReplace, a.CleanupOnFail = rb.DisableHooks, rb.Force, rb.CleanupOnFail
	a.MaxHistory = obj.GetMaxHistory()
	a.ServerSideApply = ssaMode(rb.ServerSideApply)
	a.ForceConflicts = a.ServerSideApply != "false"
	err := a.Run(obj.GetReleaseName())
	if rls, _ := lastRecord(st.cfg, obj.GetReleaseName()); rls != nil {
		if serr := r.snapshot(obj, st, rls); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		msg := fmt.Sprintf("Helm rollback to v%d failed for release %s: %s", target, releaseRef(obj), err)
		p.MarkFalse(helmv2.RemediatedCondition, helmv2.RollbackFailedReason, msg)
		p.Event(corev1.EventTypeWarning, helmv2.RollbackFailedReason, msg)
		return err
	}
	msg := fmt.Sprintf("Helm rollback to v%d succeeded for release %s", target, releaseRef(obj))
	p.MarkTrue(helmv2.RemediatedCondition, helmv2.RollbackSucceededReason, msg)
	p.Event(corev1.EventTypeNormal, helmv2.RollbackSucceededReason, msg)
	return nil
}

// uninstall removes the release (remediation or deletion).
func (r *Reconciler) uninstall(_ context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State, remediation bool) error {
	un := obj.Spec.Uninstall
	if un == nil {
		un = &helmv2.Uninstall{}
	}
	a := action.NewUninstall(st.cfg)
	a.Timeout = timeoutOf(un.Timeout, obj)
	a.DisableHooks, a.KeepHistory, a.IgnoreNotFound = un.DisableHooks, un.KeepHistory, true
	a.WaitStrategy = helmkube.WaitStrategy(waitStrategyName(obj))
	if un.DisableWait {
		a.WaitStrategy = kube.HookOnlyStrategy
	}
	a.DeletionPropagation = helmv2.DeletionPropagationBackground
	if un.DeletionPropagation != nil && *un.DeletionPropagation != "" {
		a.DeletionPropagation = *un.DeletionPropagation
	}
	_, err := a.Run(obj.GetReleaseName())
	if rls, _ := lastRecord(st.cfg, obj.GetReleaseName()); rls != nil {
		if serr := r.snapshot(obj, st, rls); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		msg := fmt.Sprintf("Helm uninstall failed for release %s: %s", releaseRef(obj), err)
		if remediation {
			p.MarkFalse(helmv2.RemediatedCondition, helmv2.UninstallFailedReason, msg)
		}
		p.Event(corev1.EventTypeWarning, helmv2.UninstallFailedReason, msg)
		return err
	}
	msg := fmt.Sprintf("Helm uninstall succeeded for release %s", releaseRef(obj))
	if remediation {
		p.MarkTrue(helmv2.RemediatedCondition, helmv2.UninstallSucceededReason, msg)
	}
	p.Event(corev1.EventTypeNormal, helmv2.UninstallSucceededReason, msg)
	return nil
}

// test runs the chart's tests and records each test hook's outcome.
func (r *Reconciler) test(_ context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	t := obj.Spec.Test
	a := action.NewReleaseTesting(st.cfg)
	a.Namespace = obj.GetReleaseNamespace()
	a.Timeout = timeoutOf(t.Timeout, obj)
	a.Filters = map[string][]string{}
	for _, f := range t.Filters {
		key := "name"
		if f.Exclude {
			key = "!name"
		}
		a.Filters[key] = append(a.Filters[key], f.Name)
	}
	rel, shutdown, err := a.Run(obj.GetReleaseName())
	if shutdown != nil {
		defer func() { _ = shutdown() }()
	}
	rls, _ := asRelease(rel)
	if rls == nil {
		rls, _ = lastRecord(st.cfg, obj.GetReleaseName())
	}
	if rls != nil {
		if serr := r.snapshot(obj, st, rls); serr != nil {
			return serr
		}
		hooks := testHooks(rls)
		if len(obj.Status.History) > 0 {
			obj.Status.History[0].TestHooks = &hooks
		}
	}
	ref := releaseRef(obj)
	if err == nil {
		msg := fmt.Sprintf("Helm test succeeded for release %s with chart %s@%s", ref, st.chart.Metadata.Name, st.version)
		reconcile.MarkTrue(obj, helmv2.TestSuccessCondition, helmv2.TestSucceededReason, msg)
		p.Event(corev1.EventTypeNormal, helmv2.TestSucceededReason, msg)
		return nil
	}
	msg := fmt.Sprintf("Helm test failed for release %s with chart %s@%s: %s", ref, st.chart.Metadata.Name, st.version, err)
	reconcile.MarkFalse(obj, helmv2.TestSuccessCondition, helmv2.TestFailedReason, msg)
	p.Event(corev1.EventTypeWarning, helmv2.TestFailedReason, msg)
	act := lastAction(obj)
	if release.IgnoreTestFailures(act, &obj.Spec) {
		return nil
	}
	obj.Status.Failures++
	if act == helmv2.ReleaseActionInstall {
		obj.Status.InstallFailures++
	} else {
		obj.Status.UpgradeFailures++
	}
	return r.remediate(context.Background(), obj, p, st, act, helmv2.TestFailedReason, msg)
}

// testHooks are the test hooks of a record with their last run.
func testHooks(rls *helmrelease.Release) map[string]*helmv2.TestHookStatus {
	out := map[string]*helmv2.TestHookStatus{}
	for _, h := range rls.Hooks {
		isTest := false
		for _, e := range h.Events {
			isTest = isTest || e == helmrelease.HookTest
		}
		if !isTest || h.LastRun.StartedAt.IsZero() {
			continue
		}
		s := &helmv2.TestHookStatus{Phase: string(h.LastRun.Phase)}
		started := metav1.NewTime(h.LastRun.StartedAt)
		s.LastStarted = &started
		if !h.LastRun.CompletedAt.IsZero() {
			completed := metav1.NewTime(h.LastRun.CompletedAt)
			s.LastCompleted = &completed
		}
		out[h.Name] = s
	}
	return out
}

// unlock marks a release left pending-* (by a crash, or a timeout Helm
// could not clean up) as failed, so the next action can run.
func (r *Reconciler) unlock(obj *helmv2.HelmRelease, st *State) error {
	rls, err := lastRecord(st.cfg, obj.GetReleaseName())
	if err != nil || rls == nil {
		return reconcile.Failed(helmv2.GetLastReleaseFailedReason, "failed to read release %s to unlock it: %v", releaseRef(obj), err)
	}
	was := rls.Info.Status
	rls.Info.Status = common.StatusFailed
	rls.Info.Description = fmt.Sprintf("Release unlocked from stale state '%s' by Driftless", was)
	if err := st.cfg.Releases.Update(rls); err != nil {
		return reconcile.Failed(meta.ReconciliationFailedReason, "failed to unlock release %s.v%d: %w", releaseRef(obj), rls.Version, err)
	}
	return r.snapshot(obj, st, rls)
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

func actionFailures(obj *helmv2.HelmRelease, act helmv2.ReleaseAction) int64 {
	if act == helmv2.ReleaseActionInstall {
		return obj.Status.InstallFailures
	}
	return obj.Status.UpgradeFailures
}

// timeoutOf is an action's timeout, spec.timeout when unset.
func timeoutOf(d *metav1.Duration, obj *helmv2.HelmRelease) time.Duration {
	if d != nil && d.Duration > 0 {
		return d.Duration
	}
	return obj.GetTimeout()
}

// waitOf is the wait strategy and WaitForJobs of an action.
func waitOf(obj *helmv2.HelmRelease, disableWait, disableWaitForJobs bool) (kube.WaitStrategy, bool) {
	if disableWait {
		return kube.HookOnlyStrategy, false
	}
	return helmkube.WaitStrategy(waitStrategyName(obj)), !disableWaitForJobs
}

func waitStrategyName(obj *helmv2.HelmRelease) string {
	if ws := obj.Spec.WaitStrategy; ws != nil {
		return ws.Name
	}
	return ""
}

// ssaMode maps the API's serverSideApply of an upgrade or rollback to
// Helm's: "true", "false" or "auto" (follow the previous release).
func ssaMode(v string) string {
	switch strings.ToLower(v) {
	case helmv2.ServerSideApplyEnabled, "true":
		return "true"
	case helmv2.ServerSideApplyDisabled, "false":
		return "false"
	}
	return "auto"
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
		un := obj.Spec.Uninstall
		if un == nil {
			un = &helmv2.Uninstall{}
		}
		a := action.NewUninstall(cfg)
		a.Timeout = timeoutOf(un.Timeout, obj)
		a.DisableHooks, a.KeepHistory, a.IgnoreNotFound = un.DisableHooks, un.KeepHistory, true
		a.WaitStrategy = helmkube.WaitStrategy(waitStrategyName(obj))
		if un.DisableWait {
			a.WaitStrategy = kube.HookOnlyStrategy
		}
		a.DeletionPropagation = helmv2.DeletionPropagationBackground
		if un.DeletionPropagation != nil && *un.DeletionPropagation != "" {
			a.DeletionPropagation = *un.DeletionPropagation
		}
		if _, err := a.Run(prev.Name); err != nil {
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
