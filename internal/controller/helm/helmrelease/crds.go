package helmrelease

// The chart's crds/ directory under install.crds and upgrade.crds: the
// controller applies the CRDs itself, before Helm's install or upgrade runs
// (which is then told to skip them), as Flux's helm-controller does.

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/reconcile"
)

// installCRDsPolicy is install.crds: Create by default, Skip under the
// deprecated skipCRDs.
func installCRDsPolicy(in *helmv2.Install) helmv2.CRDsPolicy {
	switch {
	case in.SkipCRDs:
		return helmv2.Skip
	case in.CRDs == "":
		return helmv2.Create
	}
	return in.CRDs
}

// upgradeCRDsPolicy is upgrade.crds: Skip by default.
func upgradeCRDsPolicy(up *helmv2.Upgrade) helmv2.CRDsPolicy {
	if up.CRDs == "" {
		return helmv2.Skip
	}
	return up.CRDs
}

// applyCRDs applies the chart's CRDs (its subcharts' too) with policy, as
// the release's identity, and waits for them to be Established.
func (r *Reconciler) applyCRDs(ctx context.Context, obj *helmv2.HelmRelease, st *State, policy helmv2.CRDsPolicy, timeout time.Duration) error {
	if policy == helmv2.Skip {
		return nil
	}
	var files []helmkube.CRDFile
	for _, c := range st.chart.CRDObjects() {
		if c.File != nil {
			files = append(files, helmkube.CRDFile{Filename: c.Filename, Data: c.File.Data})
		}
	}
	if len(files) == 0 {
		return nil
	}
	changes, err := st.target.ApplyCRDs(ctx, st.cfg, files, helmkube.CRDOptions{
		Policy: helmkube.CRDPolicy(policy), Labels: ownerLabels(obj), Timeout: timeout,
	})
	for _, c := range changes {
		log.FromContext(ctx).V(1).Info("CRD applied", "crd", c.Name, "file", c.Filename, "action", c.Action)
	}
	return err
}

// crdsFailed records an install or upgrade that failed on the chart's CRDs,
// before Helm ran: nothing was released, so there is nothing to remediate;
// the failure counts, and the pass ends to retry or stall as a failed
// install or upgrade would.
func (r *Reconciler) crdsFailed(obj *helmv2.HelmRelease, p *reconcile.Pass, st *State, act helmv2.ReleaseAction, started time.Time, err error) error {
	obj.Status.LastAttemptedReleaseAction = act
	obj.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: time.Since(started).Round(time.Millisecond)}
	countFailure(obj, act)
	reason, verb := helmv2.InstallFailedReason, "install"
	if act == helmv2.ReleaseActionUpgrade {
		reason, verb = helmv2.UpgradeFailedReason, "upgrade"
	}
	msg := fmt.Sprintf("Helm %s failed for release %s with chart %s@%s: %s; nothing else was applied",
		verb, releaseRef(obj), st.chart.Metadata.Name, st.version, err)
	p.MarkFalse(helmv2.ReleasedCondition, reason, msg)
	p.Event(corev1.EventTypeWarning, reason, msg)
	if out := release.AfterFailure(act, r.remediationSpec(obj), actionFailures(obj, act)); out.Exhausted {
		return reconcile.Stalling(helmv2.RetriesExceededReason, "%s; %s", msg, out.Message)
	}
	return reconcile.Failed(reason, "%s", msg)
}
