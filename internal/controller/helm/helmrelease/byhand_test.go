package helmrelease_test

import (
	"context"
	"testing"

	"helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// waitRevision waits for a reconcile requested as value to leave the
// release Ready at Helm revision rev.
func waitRevision(t *testing.T, hr *helmv2.HelmRelease, value string, rev int) *helmv2.HelmRelease {
	t.Helper()
	controllertest.RequestReconcile(t, kube, hr, value)
	return controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), value+" handled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == value && reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.LastReleaseRevision == rev
	})
}

// helm upgrade, rollback and uninstall run by hand are noticed at the next
// reconcile and set right.
func TestHandRunHelmIsSetRight(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	c := helmtest.ConfigMapChart("app", "1.0.0")
	repository(t, ns, c)
	dir, err := c.WriteDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	helm := helmCLI(t)
	hr := release(t, ns, "hand", "app", `{"message":"wanted"}`)
	controllertest.WaitReady(t, kube, hr)
	message := func() string {
		cm, err := configMap(t, ns, "hand-app")
		if err != nil {
			return err.Error()
		}
		return cm.Data["message"]
	}

	helm("upgrade", "hand", dir, "-n", ns, "--set", "message=by-hand", "--force-conflicts")
	if m := message(); m != "by-hand" {
		t.Fatalf("helm upgrade by hand left message %q", m)
	}
	got := waitRevision(t, hr, "after-upgrade", 3)
	if m := message(); m != "wanted" {
		t.Errorf("after a hand-run upgrade: message %q", m)
	}
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}

	helm("rollback", "hand", "2", "-n", ns, "--force-conflicts")
	waitRevision(t, hr, "after-rollback", 5)
	if m := message(); m != "wanted" {
		t.Errorf("after a hand-run rollback: message %q", m)
	}

	helm("uninstall", "hand", "-n", ns)
	if _, err := configMap(t, ns, "hand-app"); !apierrors.IsNotFound(err) {
		t.Fatalf("helm uninstall by hand: %v", err)
	}
	got = waitRevision(t, hr, "after-uninstall", 1)
	if m := message(); m != "wanted" {
		t.Errorf("after a hand-run uninstall: message %q", m)
	}
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.InstallSucceededReason {
		t.Errorf("Released = %+v", c)
	}
}

// A release left pending-upgrade (a controller killed mid-upgrade) is
// unlocked and upgraded, never "another operation is in progress".
func TestPendingReleaseIsUnlocked(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "locked", "app", "")
	controllertest.WaitReady(t, kube, hr)

	store := storage.Init(driver.NewSecrets(env.Kube.CoreV1().Secrets(ns)))
	rel, err := store.Get("locked", 1)
	if err != nil {
		t.Fatal(err)
	}
	rls := rel.(*helmrelease.Release)
	rls.Info.Status = common.StatusPendingUpgrade
	if err := store.Update(rls); err != nil {
		t.Fatal(err)
	}

	got := waitRevision(t, hr, "after-lock", 2)
	if h := got.Status.History; len(h) == 0 || h[0].Version != 2 || h[0].Status != "deployed" {
		t.Errorf("history %+v", h)
	}
	last, err := store.Last("locked")
	if err != nil {
		t.Fatal(err)
	}
	if s := last.(*helmrelease.Release).Info.Status; s != common.StatusDeployed {
		t.Errorf("last record %s", s)
	}
	first, err := store.Get("locked", 1)
	if err != nil {
		t.Fatal(err)
	}
	if s := first.(*helmrelease.Release).Info.Status; s == common.StatusPendingUpgrade {
		t.Errorf("v1 still %s", s)
	}
}

// A suspended HelmRelease is not reconciled, and deleting it leaves its
// release installed, saying so.
func TestSuspendedReleaseIsLeftAlone(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "held", "app", `{"message":"one"}`)
	controllertest.WaitReady(t, kube, hr)

	controllertest.Patch(t, kube, hr, `{"spec":{"suspend":true}}`)
	controllertest.Patch(t, kube, hr, `{"spec":{"values":{"message":"two"}}}`)
	controllertest.RequestReconcile(t, kube, hr, "while-suspended")
	// The suspended object is not looked at: after deletion the release is
	// still at revision 1 with the first values.
	if err := kube.Delete(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, time30s, "HelmRelease gone", func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(hr), &helmv2.HelmRelease{})
		return apierrors.IsNotFound(err), nil
	})
	controllertest.WaitEvent(t, env.Kube, hr, "Normal", "Suspended", ns+"/held is left in place")
	if list := helmList(t, ns); len(list) != 1 || list[0]["revision"] != "1" {
		t.Errorf("helm list after deleting a suspended HelmRelease: %v", list)
	}
	if cm, err := configMap(t, ns, "held-app"); err != nil || cm.Data["message"] != "one" {
		t.Errorf("released ConfigMap %+v %v", cm.Data, err)
	}
}
