package helmrelease_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
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

// hookPod is a Helm hook (or test, events "test") Pod named
// <release>-<name> that localcluster's KWOK ends Failed with exit code 1
// unless a ConfigMap named unless exists in the release's namespace ("":
// it always fails).
func hookPod(name, events, unless string) string {
	exit := `"` + testcluster.ExitCodeAnnotation + `": "1"`
	if unless != "" {
		exit = `{{- if not (lookup "v1" "ConfigMap" .Release.Namespace "` + unless + `") }}
    ` + exit + `
    {{- end }}`
	}
	return `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-` + name + `
  annotations:
    "helm.sh/hook": ` + events + `
    "helm.sh/hook-delete-policy": before-hook-creation
    ` + exit + `
spec:
  restartPolicy: Never
  containers:
  - name: ` + name + `
    image: busybox
`
}

// publish adds a chart to the kit repository and has the HelmRepository
// reconciled, so the generated HelmCharts see it.
func publish(t *testing.T, kit *helmtest.Repository, ns string, c *helmtest.Chart) {
	t.Helper()
	kit.MustPublish(t, c)
	controllertest.RequestReconcile(t, kube, &sourcev1.HelmRepository{ObjectMeta: metav1ObjectMeta(ns, "charts")}, "published-"+c.Version())
}

// helmHistory is `helm history name -n ns -o json`: revision, status,
// chart per record, oldest first.
func helmHistory(t *testing.T, ns, name string) []map[string]any {
	t.Helper()
	out := helmCLI(t)("history", name, "-n", ns, "-o", "json")
	var h []map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &h); err != nil {
		t.Fatalf("helm history: %v\n%s", err, out)
	}
	return h
}

// historyLine is the history as "revision:status:chart" words.
func historyLine(h []map[string]any) string {
	var words []string
	for _, r := range h {
		words = append(words, fmt.Sprintf("%v:%v:%v", r["revision"], r["status"], r["chart"]))
	}
	return strings.Join(words, " ")
}

func stalledWith(reason string) func(*helmv2.HelmRelease) bool {
	return func(o *helmv2.HelmRelease) bool {
		c := reconcile.Get(o, meta.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason && o.Status.ObservedGeneration == o.Generation
	}
}

// upgrade-fail, rollback: a 1.1.0 whose pre-upgrade hook fails is rolled
// back, retried once, rolled back again and stalls; a fixed 1.2.0 resets
// the counters and upgrades.
func TestFailedUpgradeIsRolledBackRetriedThenStallsUntilAFix(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	kit := repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "up", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 1}}
	})
	controllertest.WaitReady(t, kube, hr)

	publish(t, kit, ns, helmtest.ConfigMapChart("app", "1.1.0").Template("hook.yaml", hookPod("migrate", "pre-upgrade", "")))
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Stalled RetriesExceeded", stalledWith(helmv2.RetriesExceededReason))
	ready := condition(got, meta.ReadyCondition)
	for _, want := range []string{"Helm upgrade failed for release " + ns + "/up", "app@1.1.0", "up-migrate",
		"upgrade retries exhausted after 2 failure(s)", "--reset", "--force"} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready message %q lacks %q", ready.Message, want)
		}
	}
	if got.Status.UpgradeFailures != 2 || got.Status.Failures != 2 || got.Status.InstallFailures != 0 ||
		got.Status.LastAttemptedReleaseAction != helmv2.ReleaseActionUpgrade || got.Status.LastAttemptedRevision != "1.1.0" {
		t.Errorf("counters %+v", got.Status)
	}
	// retries: 1 makes remediateLastFailure default to true: both failures
	// were rolled back, the second to the release the first rollback made.
	if c := condition(got, helmv2.RemediatedCondition); c == nil || c.Status != metav1.ConditionTrue ||
		c.Reason != helmv2.RollbackSucceededReason || !strings.Contains(c.Message, "rollback to v3 succeeded") {
		t.Errorf("Remediated = %+v", c)
	}
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Status != metav1.ConditionFalse || c.Reason != helmv2.UpgradeFailedReason {
		t.Errorf("Released = %+v", c)
	}
	want := "1:superseded:app-1.0.0 2:failed:app-1.1.0 3:superseded:app-1.0.0 4:failed:app-1.1.0 5:deployed:app-1.0.0"
	if h := historyLine(helmHistory(t, ns, "up")); h != want {
		t.Errorf("helm history\n got %s\nwant %s", h, want)
	}
	if h := got.Status.History; len(h) == 0 || h[0].Version != 5 || h[0].Status != "deployed" || h[0].ChartVersion != "1.0.0" {
		t.Errorf("status.history %+v", h)
	}
	if cm, _ := configMap(t, ns, "up-app"); cm.Data["chartVersion"] != "1.0.0" {
		t.Errorf("ConfigMap at %q after the rollbacks", cm.Data["chartVersion"])
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, helmv2.RollbackSucceededReason, "rollback to v1 succeeded")

	// A reconcile on request does not try again: the retries are spent.
	controllertest.RequestReconcile(t, kube, got, "poke")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "poke handled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "poke"
	})
	if !reconcile.IsTrue(got, meta.StalledCondition) || len(helmHistory(t, ns, "up")) != 5 {
		t.Errorf("a requested reconcile retried a release whose retries are exhausted:\n%s\n%s",
			controllertest.Describe(got), historyLine(helmHistory(t, ns, "up")))
	}

	// A fixed chart: new counters, and the upgrade goes through.
	publish(t, kit, ns, helmtest.ConfigMapChart("app", "1.2.0"))
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "1.2.0 released", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && len(o.Status.History) > 0 && o.Status.History[0].ChartVersion == "1.2.0"
	})
	if got.Status.Failures != 0 || got.Status.UpgradeFailures != 0 || got.Status.History[0].Version != 6 {
		t.Errorf("after the fix:\n%s\nhelm history %s", controllertest.Describe(got), historyLine(helmHistory(t, ns, "up")))
	}
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.UpgradeSucceededReason || !strings.Contains(c.Message, "app@1.2.0") {
		t.Errorf("Released = %+v", c)
	}
	if c := condition(got, helmv2.RemediatedCondition); c != nil {
		t.Errorf("Remediated outlived a successful upgrade: %+v", c)
	}
	if cm, _ := configMap(t, ns, "up-app"); cm.Data["chartVersion"] != "1.2.0" {
		t.Errorf("ConfigMap at %q after the fix", cm.Data["chartVersion"])
	}
}

// upgrade-fail, uninstall: remediation.strategy uninstall removes the
// failed release; the retry installs afresh.
func TestFailedUpgradeIsUninstalledAndInstalledAgain(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	kit := repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	uninstall := helmv2.UninstallRemediationStrategy
	hr := release(t, ns, "un", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 1, Strategy: &uninstall}}
	})
	controllertest.WaitReady(t, kube, hr)
	before, err := configMap(t, ns, "un-app")
	if err != nil {
		t.Fatal(err)
	}

	// Only the upgrade's hook fails: the install that follows the
	// uninstall goes through, as a fresh release.
	publish(t, kit, ns, helmtest.ConfigMapChart("app", "1.1.0").Template("hook.yaml", hookPod("migrate", "pre-upgrade", "")))
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "reinstalled at 1.1.0", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && len(o.Status.History) > 0 && o.Status.History[0].ChartVersion == "1.1.0"
	})
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, helmv2.UpgradeFailedReason, "un-migrate")
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, helmv2.UninstallSucceededReason, "Helm uninstall succeeded for release "+ns+"/un")
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.InstallSucceededReason || !strings.Contains(c.Message, ns+"/un.v1 ") {
		t.Errorf("Released = %+v", c)
	}
	if h := historyLine(helmHistory(t, ns, "un")); h != "1:deployed:app-1.1.0" {
		t.Errorf("helm history %s, want the fresh install only", h)
	}
	after, err := configMap(t, ns, "un-app")
	if err != nil || after.Data["chartVersion"] != "1.1.0" || after.UID == before.UID {
		t.Errorf("ConfigMap after reinstall: %v %+v (UID %s, before %s)", err, after.Data, after.UID, before.UID)
	}
	if got.Status.LastAttemptedReleaseAction != helmv2.ReleaseActionInstall || got.Status.UpgradeFailures != 1 {
		t.Errorf("status %+v", got.Status)
	}
}

// testChart is a ConfigMapChart with a test Pod <release>-smoke that fails.
func testChart(name, version string) *helmtest.Chart {
	return helmtest.ConfigMapChart(name, version).Template("tests/smoke.yaml", hookPod("smoke", "test", ""))
}

// install-test-fail: a failing test fails the release (TestSuccess False
// naming the pod) and is remediated as the install's; ignored, the release
// is Ready with TestSuccess False.
func TestFailingTests(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, testChart("app", "1.0.0"))

	failing := release(t, ns, "tested", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Test = &helmv2.Test{Enable: true}
		hr.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 1}}
	})
	ignored := release(t, ns, "ignored", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Test = &helmv2.Test{Enable: true, IgnoreFailures: true}
	})

	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(failing), "Stalled RetriesExceeded", stalledWith(helmv2.RetriesExceededReason))
	if c := condition(got, helmv2.TestSuccessCondition); c == nil || c.Status != metav1.ConditionFalse ||
		c.Reason != helmv2.TestFailedReason || !strings.Contains(c.Message, "tested-smoke") {
		t.Errorf("TestSuccess = %+v", c)
	}
	if c := condition(got, meta.ReadyCondition); !strings.Contains(c.Message, "Helm test failed for release "+ns+"/tested") {
		t.Errorf("Ready = %+v", c)
	}
	if got.Status.InstallFailures != 2 {
		t.Errorf("install failures %d, want 2 (the test failed after each install)\n%s", got.Status.InstallFailures, controllertest.Describe(got))
		for _, e := range controllertest.Events(t, env.Kube, got) {
			t.Logf("event %s %s %s", e.Type, e.Reason, e.Message)
		}
	}
	// The first failure was remediated by an uninstall; the install was tried again.
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, helmv2.UninstallSucceededReason, ns+"/tested")
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, helmv2.TestFailedReason, "tested-smoke")
	if h := got.Status.History; len(h) == 0 || h[0].TestHooks == nil || (*h[0].TestHooks)["tested-smoke"] == nil ||
		(*h[0].TestHooks)["tested-smoke"].Phase != "Failed" {
		t.Errorf("status.history test hooks %+v", h)
	}

	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(ignored), "Ready with TestSuccess False", func(o *helmv2.HelmRelease) bool {
		c := condition(o, helmv2.TestSuccessCondition)
		return reconcile.IsTrue(o, meta.ReadyCondition) && c != nil && c.Status == metav1.ConditionFalse
	})
	if c := condition(got, helmv2.TestSuccessCondition); c.Reason != helmv2.TestFailedReason || !strings.Contains(c.Message, "ignored-smoke") {
		t.Errorf("TestSuccess = %+v", c)
	}
	if got.Status.Failures != 0 || got.Status.History[0].Version != 1 || got.Status.History[0].Status != "deployed" {
		t.Errorf("an ignored test failure counted or changed the release: %+v", got.Status)
	}
}

// upgrade-test-fail: tests failing after an upgrade are remediated as the
// upgrade's (remediateLastFailure: a rollback), then the release stalls.
func TestFailingTestsAfterAnUpgradeRollBack(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	passing := helmtest.ConfigMapChart("app", "1.0.0").Template("tests/smoke.yaml",
		strings.Replace(hookPod("smoke", "test", ""), `"`+testcluster.ExitCodeAnnotation+`": "1"`, `"note": "passes"`, 1))
	kit := repository(t, ns, passing)
	yes := true
	hr := release(t, ns, "ut", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Test = &helmv2.Test{Enable: true}
		hr.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{RemediateLastFailure: &yes}}
	})
	got := controllertest.WaitReady(t, kube, hr)
	if c := condition(got, helmv2.TestSuccessCondition); c == nil || c.Status != metav1.ConditionTrue || c.Reason != helmv2.TestSucceededReason {
		t.Errorf("TestSuccess after install = %+v", c)
	}

	publish(t, kit, ns, testChart("app", "1.1.0"))
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Stalled RetriesExceeded", stalledWith(helmv2.RetriesExceededReason))
	if c := condition(got, helmv2.TestSuccessCondition); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "ut-smoke") {
		t.Errorf("TestSuccess = %+v", c)
	}
	if c := condition(got, helmv2.RemediatedCondition); c == nil || c.Reason != helmv2.RollbackSucceededReason ||
		!strings.Contains(c.Message, "rollback to v1 succeeded") {
		t.Errorf("Remediated = %+v", c)
	}
	if got.Status.UpgradeFailures != 1 {
		t.Errorf("upgrade failures %d, want 1", got.Status.UpgradeFailures)
	}
	if h := historyLine(helmHistory(t, ns, "ut")); h != "1:superseded:app-1.0.0 2:superseded:app-1.1.0 3:deployed:app-1.0.0" {
		t.Errorf("helm history %s", h)
	}
	if cm, _ := configMap(t, ns, "ut-app"); cm.Data["chartVersion"] != "1.0.0" {
		t.Errorf("ConfigMap at %q after the rollback", cm.Data["chartVersion"])
	}
}
