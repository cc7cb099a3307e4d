package helmrelease_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// failingHook is a pre-install hook Pod that exits 1 on localcluster's KWOK.
const failingHook = `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-hook
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation
    "` + testcluster.ExitCodeAnnotation + `": "1"
spec:
  restartPolicy: Never
  containers:
  - name: hook
    image: busybox
`

func TestFailedInstallIsRemediatedThenStalls(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("broken", "1.0.0").Template("hook.yaml", failingHook))
	hr := release(t, ns, "broken", "broken", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 1}}
	})
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Stalled RetriesExceeded", func(o *helmv2.HelmRelease) bool {
		c := reconcile.Get(o, meta.StalledCondition)
		return c != nil && c.Reason == helmv2.RetriesExceededReason
	})
	ready := condition(got, meta.ReadyCondition)
	for _, want := range []string{"Helm install failed for release " + ns + "/broken", "install retries exhausted after 2 failure(s)", "--reset", "--force"} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready message %q lacks %q", ready.Message, want)
		}
	}
	if ready.Status != metav1.ConditionFalse || ready.Reason != helmv2.RetriesExceededReason {
		t.Errorf("Ready = %+v", ready)
	}
	if got.Status.InstallFailures != 2 || got.Status.Failures != 2 || got.Status.LastAttemptedReleaseAction != helmv2.ReleaseActionInstall {
		t.Errorf("counters: failures %d, install failures %d, last action %s", got.Status.Failures, got.Status.InstallFailures, got.Status.LastAttemptedReleaseAction)
	}
	// The first failure was remediated by an uninstall; the last one is not
	// (remediateLastFailure defaults to false for installs).
	if c := condition(got, helmv2.RemediatedCondition); c == nil || c.Reason != helmv2.UninstallSucceededReason {
		t.Errorf("Remediated = %+v", c)
	}
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Status != metav1.ConditionFalse || c.Reason != helmv2.InstallFailedReason {
		t.Errorf("Released = %+v", c)
	}
	controllertest.WaitEvent(t, env.Kube, got, "Warning", helmv2.InstallFailedReason, "broken-hook")
	controllertest.WaitEvent(t, env.Kube, got, "Normal", helmv2.UninstallSucceededReason, ns+"/broken")
	// The last failed release is kept for inspection, as the real helm shows.
	if list := helmList(t, ns); len(list) != 1 || list[0]["status"] != "failed" || list[0]["revision"] != "1" {
		t.Errorf("helm list %v, want the failed release", list)
	}
}

func TestAReleaseOfAnotherHelmReleaseIsNotTouched(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	first := release(t, ns, "first", "app", `{"message":"first"}`, func(hr *helmv2.HelmRelease) { hr.Spec.ReleaseName = "shared" })
	controllertest.WaitReady(t, kube, first)
	second := release(t, ns, "second", "app", `{"message":"second"}`, func(hr *helmv2.HelmRelease) { hr.Spec.ReleaseName = "shared" })
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(second), "stalled", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.StalledCondition)
	})
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "belongs to HelmRelease "+ns+"/first") {
		t.Errorf("message %q does not name the owner", msg)
	}
	if cm, err := configMap(t, ns, "shared-app"); err != nil || cm.Data["message"] != "first" {
		t.Errorf("the first HelmRelease's release was changed: %+v %v", cm.Data, err)
	}
}

func TestChartNotFoundWaitsWithTheHelmChartsWords(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "nope", "nope", "")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "ArtifactFailed", func(o *helmv2.HelmRelease) bool {
		c := reconcile.Get(o, meta.ReadyCondition)
		return c != nil && c.Reason == meta.ArtifactFailedReason && strings.Contains(c.Message, "is not ready")
	})
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "HelmChart '"+ns+"/"+ns+"-nope'") || !strings.Contains(msg, "nope") {
		t.Errorf("message %q", msg)
	}
}

func TestChartRefHelmChart(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "2.0.0"))
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, Spec: sourcev1.HelmChartSpec{
		Chart: "app", Version: "2.x", Interval: metav1.Duration{Duration: time.Hour},
		SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"},
	}}
	if err := kube.Create(context.Background(), hc); err != nil {
		t.Fatal(err)
	}
	hr := release(t, ns, "byref", "", `{"message":"ref"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart = nil
		hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.HelmChartKind, Name: "app"}
	})
	got := controllertest.WaitReady(t, kube, hr)
	if got.Status.HelmChart != "" || got.Status.History[0].ChartVersion != "2.0.0" {
		t.Errorf("status %+v", got.Status)
	}
	if cm, err := configMap(t, ns, "byref-app"); err != nil || cm.Data["message"] != "ref" {
		t.Errorf("released ConfigMap %+v %v", cm.Data, err)
	}
}
