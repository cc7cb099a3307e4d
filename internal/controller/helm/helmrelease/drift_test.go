package helmrelease_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// edit changes the released ConfigMap's message as another tool would.
func edit(t *testing.T, ns, name, message string) {
	t.Helper()
	cm, err := configMap(t, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["message"] = message
	if err := kube.Update(context.Background(), cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
}

func TestDriftDetection(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))

	// warn: the drift is reported, the cluster left as it is, Ready stays.
	warn := release(t, ns, "warn", "app", `{"message":"wanted-v4lue"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionWarn}
	})
	got := controllertest.WaitReady(t, kube, warn)
	if c := condition(got, helmv2.DriftedCondition); c == nil || c.Status != "False" || c.Reason != helmv2.NoDriftDetectedReason {
		t.Errorf("Drifted before any edit = %+v", c)
	}
	edit(t, ns, "warn-app", "edited-secret-value")
	controllertest.RequestReconcile(t, kube, got, "after-edit")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(warn), "Drifted", func(o *helmv2.HelmRelease) bool {
		c := condition(o, helmv2.DriftedCondition)
		return o.Status.LastHandledReconcileAt == "after-edit" && c != nil && c.Status == "True"
	})
	if c := condition(got, "Ready"); c.Status != "True" {
		t.Errorf("warn mode made the release not Ready: %+v", c)
	}
	controllertest.WaitEvent(t, env.Kube, got, "Warning", helmv2.DriftDetectedReason, "ConfigMap/"+ns+"/warn-app")
	for _, e := range controllertest.Events(t, env.Kube, got) {
		if strings.Contains(e.Message, "edited-secret-value") || strings.Contains(e.Message, "wanted-v4lue") {
			t.Errorf("an event quotes a value: %q", e.Message)
		}
	}
	if cm, _ := configMap(t, ns, "warn-app"); cm.Data["message"] != "edited-secret-value" {
		t.Errorf("warn mode changed the cluster: %q", cm.Data["message"])
	}

	// enabled: the edit is reverted from the release's manifest.
	fix := release(t, ns, "fix", "app", `{"message":"wanted-v4lue"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}
	})
	got = controllertest.WaitReady(t, kube, fix)
	edit(t, ns, "fix-app", "edited")
	controllertest.RequestReconcile(t, kube, got, "after-edit")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(fix), "reconciled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "after-edit"
	})
	if cm, _ := configMap(t, ns, "fix-app"); cm.Data["message"] != "wanted-v4lue" {
		t.Errorf("enabled mode left the drift: %q", cm.Data["message"])
	}
	if c := condition(got, helmv2.DriftedCondition); c == nil {
		t.Error("no Drifted condition")
	}
	controllertest.WaitEvent(t, env.Kube, got, "Normal", "DriftCorrected", "ConfigMap/"+ns+"/fix-app")
}
