package helmrelease_test

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// A change of spec.postRenderStrategy alone upgrades the release (Flux
// 2.9 does not; its status digests leave the strategy out), and the
// upgrade renders the hooks as the new strategy says: under nohooks a
// hook gets no commonMetadata, under combined it does. Flux's status
// digests are kept as Flux computes them, and a release in sync is not
// upgraded again.
func TestPostRenderStrategyChangeUpgrades(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0").Hook("prep", "pre-install,pre-upgrade"))
	hr := release(t, ns, "prs", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.PostRenderStrategy = "nohooks"
		hr.Spec.CommonMetadata = &meta.CommonMetadata{Labels: map[string]string{"team": "blue"}}
	})
	first := controllertest.WaitReady(t, kube, hr)
	if hook, err := configMap(t, ns, "prs-prep"); err != nil || hook.Labels["team"] != "" {
		t.Fatalf("under nohooks the hook has labels %v (%v)", hook.Labels, err)
	}
	if cm, _ := configMap(t, ns, "prs-app"); cm.Labels["team"] != "blue" {
		t.Fatalf("the template lacks commonMetadata: %v", cm.Labels)
	}

	controllertest.Patch(t, kube, first, `{"spec":{"postRenderStrategy":"combined"}}`)
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "the upgrade for the new strategy", func(o *helmv2.HelmRelease) bool {
		return o.Status.ObservedGeneration == o.Generation && o.Status.LastReleaseRevision == 2
	})
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}
	if hook, _ := configMap(t, ns, "prs-prep"); hook.Labels["team"] != "blue" {
		t.Errorf("under combined the upgrade's hook has labels %v", hook.Labels)
	}
	if got.Status.ObservedPostRenderersDigest != first.Status.ObservedPostRenderersDigest ||
		got.Status.ObservedCommonMetadataDigest != first.Status.ObservedCommonMetadataDigest {
		t.Errorf("Flux's digests changed with the strategy: %s %s", got.Status.ObservedPostRenderersDigest, got.Status.ObservedCommonMetadataDigest)
	}

	// In sync now: a reconcile does not upgrade again.
	controllertest.RequestReconcile(t, kube, got, "again")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "the next pass", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "again"
	})
	if got.Status.LastReleaseRevision != 2 {
		t.Errorf("a release in sync was upgraded again: revision %d", got.Status.LastReleaseRevision)
	}
}
