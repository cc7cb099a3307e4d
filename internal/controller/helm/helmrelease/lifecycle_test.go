package helmrelease_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func TestInstallUpgradeUninstall(t *testing.T) {
	ns := env.Namespace(t)
	kit := repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "web", "app", `{"message":"hi"}`)
	got := controllertest.WaitReady(t, kube, hr)
	controllertest.AssertKStatus(t, got)

	ref := fmt.Sprintf("%s/web.v1", ns)
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.InstallSucceededReason ||
		c.Message != "Helm install succeeded for release "+ref+" with chart app@1.0.0" {
		t.Errorf("Released = %+v", c)
	}
	if c := condition(got, "Ready"); c.Reason != helmv2.InstallSucceededReason {
		t.Errorf("Ready = %+v", c)
	}
	h := got.Status.History
	if len(h) != 1 || h[0].Version != 1 || h[0].Status != "deployed" || h[0].ChartName != "app" || h[0].ChartVersion != "1.0.0" || h[0].Digest == "" {
		t.Errorf("history %+v", h)
	}
	if got.Status.HelmChart != ns+"/"+ns+"-web" || got.Status.LastAttemptedReleaseAction != helmv2.ReleaseActionInstall ||
		got.Status.StorageNamespace != ns || got.Status.LastReleaseRevision != 1 {
		t.Errorf("status %+v", got.Status)
	}
	if got.Status.Inventory == nil || len(got.Status.Inventory.Entries) != 1 || !strings.HasSuffix(got.Status.Inventory.Entries[0].ID, "_ConfigMap") {
		t.Errorf("inventory %+v", got.Status.Inventory)
	}
	hc := &sourcev1.HelmChart{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ns + "-web"}, hc); err != nil {
		t.Fatalf("generated HelmChart: %v", err)
	}
	if hc.Labels[helmv2.NameLabel] != "web" || hc.Labels[helmv2.NamespaceLabel] != ns || hc.Spec.Version != "*" {
		t.Errorf("generated HelmChart %+v", hc.ObjectMeta.Labels)
	}
	cm, err := configMap(t, ns, "web-app")
	if err != nil || cm.Data["message"] != "hi" || cm.Data["chartVersion"] != "1.0.0" {
		t.Fatalf("released ConfigMap %+v: %v", cm.Data, err)
	}
	if cm.Labels[helmv2.NameLabel] != "web" || cm.Labels[helmv2.NamespaceLabel] != ns {
		t.Errorf("origin labels %v", cm.Labels)
	}
	// The real helm sees the release as status does.
	if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != "web" || list[0]["revision"] != "1" || list[0]["status"] != "deployed" {
		t.Errorf("helm list %v", list)
	}
	if vals := helmCLI(t)("get", "values", "web", "-n", ns, "-o", "json"); !strings.Contains(vals, `"message":"hi"`) {
		t.Errorf("helm get values: %s", vals)
	}

	// A new chart version: the repository reconciled, the release upgrades.
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.1.0"))
	controllertest.RequestReconcile(t, kube, &sourcev1.HelmRepository{ObjectMeta: metav1ObjectMeta(ns, "charts")}, "published")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
		return len(o.Status.History) > 0 && o.Status.History[0].Version == 2 && o.Status.History[0].Status == "deployed"
	})
	got = controllertest.WaitReady(t, kube, got)
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.UpgradeSucceededReason || !strings.Contains(c.Message, "app@1.1.0") {
		t.Errorf("Released after the upgrade = %+v", c)
	}
	if cm, _ := configMap(t, ns, "web-app"); cm.Data["chartVersion"] != "1.1.0" {
		t.Errorf("ConfigMap version %q after the upgrade", cm.Data["chartVersion"])
	}

	// New values: another upgrade.
	controllertest.Patch(t, kube, got, `{"spec":{"values":{"message":"bye"}}}`)
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 3", func(o *helmv2.HelmRelease) bool {
		return len(o.Status.History) > 0 && o.Status.History[0].Version == 3
	})
	controllertest.WaitReady(t, kube, got)
	if cm, _ := configMap(t, ns, "web-app"); cm.Data["message"] != "bye" {
		t.Errorf("ConfigMap message %q after new values", cm.Data["message"])
	}

	// Deleting the HelmRelease uninstalls the release and removes its HelmChart.
	if err := kube.Delete(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	err = testcluster.Poll(time30s, func() (bool, error) {
		_, err := configMap(t, ns, "web-app")
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("the released ConfigMap was not uninstalled: %v", err)
	}
	if list := helmList(t, ns); len(list) != 0 {
		t.Errorf("helm list after deletion: %v", list)
	}
	err = testcluster.Poll(time30s, func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ns + "-web"}, &sourcev1.HelmChart{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("the generated HelmChart outlived its HelmRelease: %v", err)
	}
}
