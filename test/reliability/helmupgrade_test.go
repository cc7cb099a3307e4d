package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// Helm refuses any action on a release whose last record is pending
// (pending-install, -upgrade, -rollback) with this message; a controller
// that leaves one behind shows it in its conditions and events.
const anotherOperation = "another operation"

// TestControllerKilledMidHelmUpgrade: a HelmRelease at 1.0.0 is upgraded to
// a 1.1.0 whose pre-upgrade hook pod cannot be scheduled until the test
// opens its gate; driftless-controller is killed with SIGKILL while the
// release record is pending-upgrade, and started again. The new process
// unlocks the release (marks the pending record failed, as Flux does) and
// upgrades: deployed at 1.1.0, Ready, and never "another operation is in
// progress".
func TestControllerKilledMidHelmUpgrade(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "driftless-controller SIGKILLed in the middle of a Helm upgrade (release pending-upgrade), then started again",
		Expected: "the pending release is unlocked (marked failed) and upgraded: deployed at the new chart version, HelmRelease Ready; never 'another operation is in progress'",
	})
	u := newGatedUpgrade(t)
	first := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: u.storage, storageAddr: u.addr})
	u.install(t)
	uid := u.configMap(t).UID
	u.publishUpgrade(t)
	u.waitPending(t, first)

	first.kill(t)
	killedAt := time.Now()
	// The kill left the lock behind: the record is still pending.
	if got := u.records(t)[2]; got != "pending-upgrade" {
		t.Fatalf("release record v2 is %q right after the kill, want pending-upgrade: the kill did not cut the upgrade", got)
	}
	u.openGate(t)

	second := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: u.storage, storageAddr: u.addr})
	hr := u.waitDeployed(t, "1.1.0", 2*time.Minute)
	r.Recovery = time.Since(killedAt)
	second.running(t)

	records := u.records(t)
	last := lastVersion(records)
	if records[last] != "deployed" {
		t.Errorf("the last release record v%d is %q, want deployed (records %s)", last, records[last], recordList(records))
	}
	for v, status := range records {
		if strings.HasPrefix(status, "pending") {
			t.Errorf("release record v%d is still %s after the restart", v, status)
		}
	}
	if records[2] != "failed" {
		t.Errorf("the record cut by the kill (v2) is %q, want failed: the unlock marks it so", records[2])
	}
	if last < 3 {
		t.Errorf("no upgrade after the unlock: last record v%d (records %s)", last, recordList(records))
	}
	if hr.Status.LastReleaseRevision != last || len(hr.Status.History) == 0 || hr.Status.History[0].Version != last ||
		hr.Status.History[0].ChartVersion != "1.1.0" || hr.Status.History[0].Status != "deployed" {
		t.Errorf("status does not record the upgrade to v%d: lastReleaseRevision %d, history %s", last, hr.Status.LastReleaseRevision, historyText(hr))
	}
	r.Lost, r.Wrong = u.keptObject(t, uid)
	// The real helm tells the story from the release records.
	history := u.helmHistory(t)
	if d := history[2]; !strings.Contains(d, "unlocked from stale state 'pending-upgrade'") {
		t.Errorf("helm history: v2 %q does not say it was unlocked from pending-upgrade", d)
	}
	if saw := u.anotherOperation(t, hr, first, second); saw != "" {
		t.Errorf("%q seen after the restart: %s", anotherOperation, saw)
	}
	r.Observed = fmt.Sprintf("killed with v2 pending-upgrade (hook pod Pending); restarted: records %s, helm history v2 %q, v3 %q; Ready at 1.1.0, status.history %s; %q in no condition, event or log line",
		recordList(records), history[2], history[last], historyText(hr), anotherOperation)
}

// TestControllerTerminatedMidHelmUpgrade: the same upgrade, cut with
// SIGTERM. The process keeps the upgrade running past the signal, within
// --graceful-shutdown-timeout: once the gate opens, the release is
// deployed, the status written, and the process exits 0. A new process
// finds the HelmRelease in sync and does not upgrade again.
func TestControllerTerminatedMidHelmUpgrade(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "driftless-controller SIGTERMed in the middle of a Helm upgrade (release pending-upgrade)",
		Expected: "the process waits for the upgrade (within --graceful-shutdown-timeout) and exits 0; the release deployed, not pending; after a restart Ready with no other upgrade",
	})
	u := newGatedUpgrade(t)
	first := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: u.storage, storageAddr: u.addr,
		extra: []string{"--graceful-shutdown-timeout", "2m"}})
	u.install(t)
	uid := u.configMap(t).UID
	u.publishUpgrade(t)
	u.waitPending(t, first)

	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	// The manager has stopped its controllers and waits for the workers in
	// flight: the helm worker is inside the upgrade.
	testcluster.Eventually(t, time.Minute, "the HelmRelease controller waiting for its workers", func() (bool, error) {
		return waitingForWorkers(first.log, "HelmRelease"), nil
	})
	select {
	case <-first.exited:
		t.Fatalf("the controller exited (%v) with the upgrade in flight", first.waitErr)
	default:
	}
	if got := u.records(t)[2]; got != "pending-upgrade" {
		t.Fatalf("release record v2 is %q once the stop began, want pending-upgrade (the upgrade still running): the stop cut it", got)
	}
	u.openGate(t)
	openedAt := time.Now()
	select {
	case <-first.exited:
	case <-time.After(2 * time.Minute):
		t.Fatal("the controller did not exit within its 2m --graceful-shutdown-timeout once the upgrade could finish")
	}
	finished := time.Since(openedAt)
	if first.waitErr != nil {
		t.Errorf("the controller exited with %v after SIGTERM, want 0:\n%s", first.waitErr, tailFile(first.log, 30))
	}
	records := u.records(t)
	if records[2] != "deployed" || records[1] != "superseded" || len(records) != 2 {
		t.Errorf("release records after the graceful stop %s, want v1 superseded, v2 deployed", recordList(records))
	}
	hr := u.get(t)
	if !reconcile.IsTrue(hr, meta.ReadyCondition) || hr.Status.LastReleaseRevision != 2 || len(hr.Status.History) == 0 ||
		hr.Status.History[0].Version != 2 || hr.Status.History[0].Status != "deployed" || hr.Status.History[0].ChartVersion != "1.1.0" {
		t.Errorf("the status written before the exit does not record the upgrade: Ready %v, lastReleaseRevision %d, history %s",
			reconcile.IsTrue(hr, meta.ReadyCondition), hr.Status.LastReleaseRevision, historyText(hr))
	}

	// Its events too: the senders outlive the passes in flight.
	controllertest.WaitEvent(t, env.Kube, hr, "Normal", "UpgradeSucceeded", "app.v2 with chart app@1.1.0")
	second := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: u.storage, storageAddr: u.addr})
	requestReconcile(t, kube, hr, "after-restart")
	hr = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "the restarted controller's pass", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "after-restart"
	})
	second.running(t)
	if !reconcile.IsTrue(hr, meta.ReadyCondition) || hr.Status.LastReleaseRevision != 2 {
		t.Errorf("after the restart: Ready %v, lastReleaseRevision %d, want Ready at 2\n%s", reconcile.IsTrue(hr, meta.ReadyCondition),
			hr.Status.LastReleaseRevision, controllertest.Describe(hr))
	}
	r.Lost, r.Wrong = u.keptObject(t, uid)
	if again := u.records(t); len(again) != 2 {
		t.Errorf("the restarted controller made another release: records %s", recordList(again))
	}
	if saw := u.anotherOperation(t, hr, first, second); saw != "" {
		t.Errorf("%q seen: %s", anotherOperation, saw)
	}
	r.Observed = fmt.Sprintf("SIGTERM with v2 pending-upgrade: the HelmRelease controller waited for its worker, v2 still pending, the process running; once the hook pod could run, the upgrade finished, the status and the UpgradeSucceeded event were written and the process exited 0 %s later; records %s; restarted: Ready at revision 2, no other release",
		finished.Round(100*time.Millisecond), recordList(records))
}

// gatedUpgrade is a HelmRelease "app" of the kit chart app in its own
// namespace, whose 1.1.0 has a pre-upgrade hook pod selecting a node label
// no node carries until openGate: the upgrade waits in its hook, with the
// release record pending-upgrade, for as long as the test wants.
type gatedUpgrade struct {
	ns, gate      string
	kit           *helmtest.Repository
	hr            *helmv2.HelmRelease
	storage, addr string
}

func newGatedUpgrade(t *testing.T) *gatedUpgrade {
	t.Helper()
	ns := env.Namespace(t)
	u := &gatedUpgrade{ns: ns, gate: "reliability.driftless.dev/gate-" + ns, storage: t.TempDir(), addr: freeAddr(t)}
	u.kit = helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	u.kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	return u
}

// install creates the HelmRepository and the HelmRelease and waits for the
// release of 1.0.0.
func (u *gatedUpgrade) install(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	repo := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: u.ns},
		Spec: sourcev1.HelmRepositorySpec{URL: u.kit.URL, Interval: metav1.Duration{Duration: time.Hour}}}
	if err := kube.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	u.hr = &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: u.ns},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: "app", SourceRef: helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"},
			}},
			// Long enough for the hook to wait in: the test, not the
			// timeout, ends the wait.
			Timeout: &metav1.Duration{Duration: 5 * time.Minute},
		},
	}
	if err := kube.Create(ctx, u.hr); err != nil {
		t.Fatal(err)
	}
	u.waitDeployed(t, "1.0.0", 2*time.Minute)
}

// publishUpgrade publishes 1.1.0 with the gated hook and asks the
// HelmRepository to look.
func (u *gatedUpgrade) publishUpgrade(t *testing.T) {
	t.Helper()
	u.kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.1.0").Template("gate.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-gate
  annotations:
    "helm.sh/hook": pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation
spec:
  restartPolicy: Never
  nodeSelector:
    %q: open
  containers:
  - name: gate
    image: busybox
`, u.gate)))
	requestReconcile(t, kube, &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: u.ns}}, "1.1.0")
}

// waitPending waits until the upgrade is inside its hook: record v2
// pending-upgrade and the hook pod created, not scheduled.
func (u *gatedUpgrade) waitPending(t *testing.T, c *controller) {
	t.Helper()
	testcluster.Eventually(t, 2*time.Minute, "release record v2 pending-upgrade and the hook pod waiting", func() (bool, error) {
		c.running(t)
		if u.records(t)[2] != "pending-upgrade" {
			return false, nil
		}
		var pod corev1.Pod
		if err := kube.Get(context.Background(), client.ObjectKey{Namespace: u.ns, Name: "app-gate"}, &pod); err != nil {
			return false, err
		}
		if pod.Status.Phase != corev1.PodPending {
			return false, fmt.Errorf("hook pod app-gate is %s before its gate opened", pod.Status.Phase)
		}
		return true, nil
	})
}

// openGate labels a schedulable node so that the hook pod can run (and
// KWOK then completes it); the label goes with the test.
func (u *gatedUpgrade) openGate(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	nodes, err := env.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var node string
	for _, n := range nodes.Items {
		if !n.Spec.Unschedulable && len(n.Spec.Taints) == 0 {
			node = n.Name
			break
		}
	}
	if node == "" {
		t.Fatalf("no schedulable node without taints among %d nodes to open the gate on", len(nodes.Items))
	}
	patch := func(value any) error {
		body := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, u.gate, value)
		_, err := env.Kube.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(body), metav1.PatchOptions{})
		return err
	}
	if err := patch(`"open"`); err != nil {
		t.Fatalf("label node %s: %v", node, err)
	}
	t.Cleanup(func() {
		if env.Running() {
			_ = patch("null")
		}
	})
}

func (u *gatedUpgrade) get(t *testing.T) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: u.ns, Name: "app"}, hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// waitDeployed waits until the HelmRelease is Ready with its newest
// release deployed at version.
func (u *gatedUpgrade) waitDeployed(t *testing.T, version string, timeout time.Duration) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	err := testcluster.Poll(timeout, func() (bool, error) {
		if err := kube.Get(context.Background(), client.ObjectKey{Namespace: u.ns, Name: "app"}, hr); err != nil {
			return false, err
		}
		h := hr.Status.History
		return reconcile.IsTrue(hr, meta.ReadyCondition) && len(h) > 0 && h[0].ChartVersion == version && h[0].Status == "deployed", nil
	})
	if err != nil {
		t.Fatalf("HelmRelease %s/app: waiting for Ready with %s deployed: %v\n%s", u.ns, version, err, controllertest.Describe(hr))
	}
	return hr
}

// records reads the release records' versions and statuses from the
// labels of Helm's Secrets storage (no Secret's data is read).
func (u *gatedUpgrade) records(t *testing.T) map[int]string {
	t.Helper()
	list, err := env.Kube.CoreV1().Secrets(u.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=app"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, s := range list.Items {
		v, err := strconv.Atoi(s.Labels["version"])
		if err != nil {
			t.Fatalf("release Secret %s/%s: version label %q", u.ns, s.Name, s.Labels["version"])
		}
		out[v] = s.Labels["status"]
	}
	return out
}

// helmHistory is the description of each revision in `helm history`.
func (u *gatedUpgrade) helmHistory(t *testing.T) map[int]string {
	t.Helper()
	out := helmtest.NewCLI(t).Run(t, "history", "app", "-n", u.ns, "-o", "json", "--kubeconfig", env.Kubeconfig())
	var list []struct {
		Revision    int    `json:"revision"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &list); err != nil {
		t.Fatalf("helm history: %v\n%s", err, out)
	}
	descriptions := map[int]string{}
	for _, e := range list {
		descriptions[e.Revision] = e.Description
	}
	return descriptions
}

// keptObject counts the released ConfigMap lost (absent, or not at chart
// 1.1.0) and wrongly deleted (recreated: another UID than uid).
func (u *gatedUpgrade) keptObject(t *testing.T, uid types.UID) (lost, wrong int) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: u.ns, Name: "app-app"}, cm); err != nil {
		t.Errorf("released ConfigMap %s/app-app: %v", u.ns, err)
		return 1, 0
	}
	if cm.Data["chartVersion"] != "1.1.0" {
		t.Errorf("released ConfigMap at chart %q, want 1.1.0", cm.Data["chartVersion"])
		lost = 1
	}
	if cm.UID != uid {
		t.Errorf("released ConfigMap recreated (UID %s, was %s)", cm.UID, uid)
		wrong = 1
	}
	return lost, wrong
}

func (u *gatedUpgrade) configMap(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: u.ns, Name: "app-app"}, cm); err != nil {
		t.Fatalf("released ConfigMap %s/app-app: %v", u.ns, err)
	}
	return cm
}

// anotherOperation returns where "another operation" appears: a condition
// of hr, an event on it, or a line of a controller's log; "" when nowhere.
func (u *gatedUpgrade) anotherOperation(t *testing.T, hr *helmv2.HelmRelease, cs ...*controller) string {
	t.Helper()
	var saw []string
	for _, c := range hr.Status.Conditions {
		if strings.Contains(c.Message, anotherOperation) {
			saw = append(saw, fmt.Sprintf("condition %s: %s", c.Type, c.Message))
		}
	}
	for _, e := range controllertest.Events(t, env.Kube, hr) {
		if strings.Contains(e.Message, anotherOperation) {
			saw = append(saw, fmt.Sprintf("event %s %s: %s", e.Type, e.Reason, e.Message))
		}
	}
	for _, c := range cs {
		b, _ := os.ReadFile(c.log)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, anotherOperation) {
				saw = append(saw, "log: "+line)
			}
		}
	}
	return head(saw)
}

// waitingForWorkers tells whether the log shows controller-runtime's
// controller of kind stopped and waiting for its workers in flight.
func waitingForWorkers(log, kind string) bool {
	b, _ := os.ReadFile(log)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "waiting for all workers to finish") && strings.Contains(line, kind) {
			return true
		}
	}
	return false
}

func lastVersion(records map[int]string) int {
	last := 0
	for v := range records {
		last = max(last, v)
	}
	return last
}

func recordList(records map[int]string) string {
	var vs []int
	for v := range records {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("v%d %s", v, records[v]))
	}
	return strings.Join(out, ", ")
}

func historyText(hr *helmv2.HelmRelease) string {
	var out []string
	for _, s := range hr.Status.History {
		out = append(out, fmt.Sprintf("v%d %s app@%s", s.Version, s.Status, s.ChartVersion))
	}
	return "[" + strings.Join(out, "; ") + "]"
}
