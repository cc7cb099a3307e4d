package helmrelease

// The Helm actions a pass runs (install, upgrade, rollback, uninstall,
// test, unlock), each with the spec's options for it, and what each
// leaves in status and events.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/reconcile"
)

// install runs a Helm install with the spec's install options.
func (r *Reconciler) install(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	in := obj.Spec.Install
	if in == nil {
		in = &helmv2.Install{}
	}
	a := r.newInstall(st.cfg, obj, in)
	a.Labels = recordLabels(obj, st)
	a.PostRenderer, a.PostRenderStrategy = st.renderer, action.PostRenderStrategy(st.renderer.Strategy())
	a.Description = "Installed by Driftless"
	started := time.Now()
	if failed, err := r.prepareChart(ctx, obj, p, st, helmv2.ReleaseActionInstall, started, a.SkipSchemaValidation, installCRDsPolicy(in), a.Timeout); failed {
		return err
	}
	_, err := a.RunWithContext(ctx, st.chart, st.values)
	return r.afterAction(ctx, obj, p, st, helmv2.ReleaseActionInstall, started, err)
}

// prepareChart does what comes before an install or upgrade act: it
// refuses a chart whose schema Helm would load from outside the chart
// (unless schema validation is off), then applies the chart's CRDs per
// policy. When either fails, nothing is applied: failed is set and err
// is the pass's outcome.
func (r *Reconciler) prepareChart(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State,
	act helmv2.ReleaseAction, started time.Time, skipSchema bool, policy helmv2.CRDsPolicy, timeout time.Duration) (failed bool, err error) {
	if !skipSchema {
		if err := checkSchemaRefs(st.chart); err != nil {
			return true, r.afterAction(ctx, obj, p, st, act, started, err)
		}
	}
	if err := r.applyCRDs(ctx, obj, st, policy, timeout); err != nil {
		return true, r.crdsFailed(obj, p, st, act, started, err)
	}
	return false, nil
}

// newInstall is a Helm install with the spec's install options and the
// gates' defaults.
func (r *Reconciler) newInstall(cfg *action.Configuration, obj *helmv2.HelmRelease, in *helmv2.Install) *action.Install {
	a := action.NewInstall(cfg)
	a.ReleaseName, a.Namespace = obj.GetReleaseName(), obj.GetReleaseNamespace()
	a.Timeout = timeoutOf(in.Timeout, obj)
	a.WaitStrategy, a.WaitForJobs = r.waitOf(obj, in.DisableWait, in.DisableWaitForJobs)
	a.EnableDNS = r.Gates.AllowDNSLookups
	a.DisableHooks, a.DisableOpenAPIValidation, a.SkipSchemaValidation = in.DisableHooks, in.DisableOpenAPIValidation, in.DisableSchemaValidation
	a.Replace, a.CreateNamespace, a.TakeOwnership = in.Replace, in.CreateNamespace, !in.DisableTakeOwnership
	// The chart's CRDs are the controller's to apply (install.crds), not
	// Helm's, whose install only creates them.
	a.SkipCRDs = true
	a.ServerSideApply = r.installSSA(in)
	a.ForceConflicts = a.ServerSideApply
	return a
}

// upgrade runs a Helm upgrade with the spec's upgrade options; it also
// adopts a release made by hand and retries a failed one.
func (r *Reconciler) upgrade(ctx context.Context, obj *helmv2.HelmRelease, p *reconcile.Pass, st *State) error {
	up := obj.Spec.Upgrade
	if up == nil {
		up = &helmv2.Upgrade{}
	}
	a := r.newUpgrade(st.cfg, obj, up)
	a.Labels = recordLabels(obj, st)
	a.PostRenderer, a.PostRenderStrategy = st.renderer, action.PostRenderStrategy(st.renderer.Strategy())
	a.Description = "Upgraded by Driftless"
	started := time.Now()
	// Helm's upgrade leaves CRDs alone; upgrade.crds says what the
	// controller does with them first.
	if failed, err := r.prepareChart(ctx, obj, p, st, helmv2.ReleaseActionUpgrade, started, a.SkipSchemaValidation, upgradeCRDsPolicy(up), a.Timeout); failed {
		return err
	}
	_, err := a.RunWithContext(ctx, obj.GetReleaseName(), st.chart, st.values)
	return r.afterAction(ctx, obj, p, st, helmv2.ReleaseActionUpgrade, started, err)
}

// newUpgrade is a Helm upgrade with the spec's upgrade options and the
// gates' defaults.
func (r *Reconciler) newUpgrade(cfg *action.Configuration, obj *helmv2.HelmRelease, up *helmv2.Upgrade) *action.Upgrade {
	a := action.NewUpgrade(cfg)
	a.Namespace = obj.GetReleaseNamespace()
	a.Timeout = timeoutOf(up.Timeout, obj)
	a.WaitStrategy, a.WaitForJobs = r.waitOf(obj, up.DisableWait, up.DisableWaitForJobs)
	a.EnableDNS = r.Gates.AllowDNSLookups
	a.DisableHooks, a.DisableOpenAPIValidation, a.SkipSchemaValidation = up.DisableHooks, up.DisableOpenAPIValidation, up.DisableSchemaValidation
	a.ForceReplace, a.CleanupOnFail, a.TakeOwnership = up.Force, up.CleanupOnFail, !up.DisableTakeOwnership
	a.ReuseValues, a.ResetValues = up.PreserveValues, !up.PreserveValues
	a.MaxHistory = obj.GetMaxHistory()
	a.ServerSideApply = ssaMode(up.ServerSideApply)
	a.ForceConflicts = a.ServerSideApply != "false"
	return a
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
	a.WaitStrategy, a.WaitForJobs = r.waitOf(obj, rb.DisableWait, rb.DisableWaitForJobs)
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
	_, err := r.newUninstall(st.cfg, obj).Run(obj.GetReleaseName())
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

// newUninstall is a Helm uninstall with the spec's uninstall options.
func (r *Reconciler) newUninstall(cfg *action.Configuration, obj *helmv2.HelmRelease) *action.Uninstall {
	un := obj.Spec.Uninstall
	if un == nil {
		un = &helmv2.Uninstall{}
	}
	a := action.NewUninstall(cfg)
	a.Timeout = timeoutOf(un.Timeout, obj)
	a.DisableHooks, a.KeepHistory, a.IgnoreNotFound = un.DisableHooks, un.KeepHistory, true
	a.WaitStrategy = helmkube.WaitStrategy(r.waitStrategyName(obj))
	if un.DisableWait {
		a.WaitStrategy = kube.HookOnlyStrategy
	}
	a.DeletionPropagation = helmv2.DeletionPropagationBackground
	if un.DeletionPropagation != nil && *un.DeletionPropagation != "" {
		a.DeletionPropagation = *un.DeletionPropagation
	}
	return a
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
	countFailure(obj, act)
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

// timeoutOf is an action's timeout, spec.timeout when unset.
func timeoutOf(d *metav1.Duration, obj *helmv2.HelmRelease) time.Duration {
	if d != nil && d.Duration > 0 {
		return d.Duration
	}
	return obj.GetTimeout()
}

// waitOf is the wait strategy and WaitForJobs of an action.
func (r *Reconciler) waitOf(obj *helmv2.HelmRelease, disableWait, disableWaitForJobs bool) (kube.WaitStrategy, bool) {
	if disableWait {
		return kube.HookOnlyStrategy, false
	}
	return helmkube.WaitStrategy(r.waitStrategyName(obj)), !disableWaitForJobs
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
