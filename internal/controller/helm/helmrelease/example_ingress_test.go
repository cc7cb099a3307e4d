package helmrelease_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/cli"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// ingressExample is the mission's 03-helm-ingress-nginx example: its two
// objects, decoded strictly, so that a field this test does not know makes
// it fail rather than ignore it.
func ingressExample(t *testing.T) (*sourcev1.HelmRepository, *helmv2.HelmRelease) {
	t.Helper()
	const file = "config/testdata/mission-examples/03-helm-ingress-nginx.yaml"
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(testcluster.ReadRepoFile(t, file))))
	var repo *sourcev1.HelmRepository
	var hr *helmv2.HelmRelease
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var head metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch head.GroupVersionKind() {
		case sourcev1.GroupVersion.WithKind(sourcev1.HelmRepositoryKind):
			repo = &sourcev1.HelmRepository{}
			err = yaml.UnmarshalStrict(doc, repo)
		case helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind):
			hr = &helmv2.HelmRelease{}
			err = yaml.UnmarshalStrict(doc, hr)
		case (&metav1.TypeMeta{}).GroupVersionKind():
			continue // comments only
		default:
			t.Fatalf("%s holds a %s this test does not expect", file, head.GroupVersionKind())
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", file, head.Kind, err)
		}
	}
	if repo == nil || hr == nil {
		t.Fatalf("%s: want one HelmRepository and one HelmRelease", file)
	}
	return repo, hr
}

// flux runs the project's `flux` command in this process against the test
// cluster and returns its standard output.
func flux(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	f := cli.NewFactory(strings.NewReader(""), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	root := cli.NewRootCommand("v0.0.0-test", f)
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig()}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("flux %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// fluxGetRow is the row of `flux get helmrelease name -n ns` as its
// columns: NAME, REVISION, SUSPENDED, READY, MESSAGE.
func fluxGetRow(t *testing.T, ns, name string) []string {
	t.Helper()
	out := flux(t, "get", "helmrelease", name, "-n", ns)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("flux get helmrelease %s -n %s:\n%s", name, ns, out)
	}
	fields := strings.Fields(lines[1])
	if len(fields) < 5 {
		t.Fatalf("flux get helmrelease %s -n %s:\n%s", name, ns, out)
	}
	return append(fields[:4], strings.Join(fields[4:], " "))
}

// serviceMonitorCRD installs the monitoring.coreos.com/v1 ServiceMonitor
// CRD (any fields) and waits until it is served; the test's end removes it.
func serviceMonitorCRD(t *testing.T) {
	t.Helper()
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(helmtest.CRDManifest("monitoring.coreos.com", "ServiceMonitor")), &crd.Object); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := kube.Create(ctx, crd); err != nil {
		t.Fatalf("create the ServiceMonitor CRD: %v", err)
	}
	t.Cleanup(func() { _ = kube.Delete(context.Background(), crd) })
	testcluster.Eventually(t, controllertest.Timeout, "the ServiceMonitor CRD Established", func() (bool, error) {
		got := &unstructured.Unstructured{Object: map[string]any{"apiVersion": crd.GetAPIVersion(), "kind": crd.GetKind()}}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// ensureNamespace creates a namespace the example names, if it is not there.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// deleteAndWait deletes obj and waits until it is gone (a HelmRelease:
// until the controller uninstalled it and dropped its finalizer).
func deleteAndWait(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	if err := kube.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
		return
	}
	if err := testcluster.Poll(controllertest.Timeout, func() (bool, error) {
		err := kube.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Errorf("%T %s still there after its deletion: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// ingressDeployment is the release's Deployment; its helm.sh/chart label
// names the chart version that made it.
func ingressDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}, dep); err != nil {
		t.Fatalf("the release's Deployment: %v", err)
	}
	return dep
}

// deploymentProgress tells the release Deployment's generations, replica
// counts and conditions, for a failure message.
func deploymentProgress(t *testing.T) string {
	t.Helper()
	dep := ingressDeployment(t)
	text := fmt.Sprintf("generation %d observed %d, replicas %d updated %d ready %d unavailable %d;",
		dep.Generation, dep.Status.ObservedGeneration, dep.Status.Replicas, dep.Status.UpdatedReplicas,
		dep.Status.ReadyReplicas, dep.Status.UnavailableReplicas)
	for _, c := range dep.Status.Conditions {
		text += fmt.Sprintf(" %s=%s %s (updated %s): %s;", c.Type, c.Status, c.Reason, c.LastUpdateTime.Format(time.RFC3339), c.Message)
	}
	return text + " now " + time.Now().UTC().Format(time.RFC3339)
}

// TestMissionIngressNginxExample applies ../shared/mission/examples/03 as
// written (the committed copy, which config's TestMissionExamplesAreAccepted
// keeps equal to the shared one), its HelmRepository's url pointed at a kit
// repository serving an ingress-nginx chart in 3.x, 4.x and 5.x.
//
// The example fixes its namespaces, flux-system and ingress-nginx; this is
// the only test of the package that uses them. The case without the
// ServiceMonitor CRD runs first, before the test installs the CRD, on a copy
// of the release in a namespace of its own: the example's own release then
// starts from a clean history.
func TestMissionIngressNginxExample(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo, example := ingressExample(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	for _, v := range []string{"3.40.0", "4.10.0", "5.0.0"} {
		kit.MustPublish(t, helmtest.IngressNginxChart(v))
	}
	// The HelmRelease lives in ingress-nginx, so that namespace exists
	// before it (install.createNamespace then has nothing to create), as it
	// must when a user applies the example.
	ensureNamespace(t, repo.Namespace)
	ensureNamespace(t, example.Namespace)
	repo.Spec.URL = kit.URL
	if err := kube.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteAndWait(t, &sourcev1.HelmRepository{ObjectMeta: metav1ObjectMeta(repo.Namespace, repo.Name)})
	})
	controllertest.WaitReady(t, kube, repo)
	publish := func(c *helmtest.Chart) {
		t.Helper()
		kit.MustPublish(t, c)
		controllertest.RequestReconcile(t, kube, repo, "published-"+c.Version())
	}

	// Without the ServiceMonitor CRD: each install fails naming the kind,
	// is uninstalled, and after 1 + 3 retries the release stalls.
	t.Run("without the ServiceMonitor CRD", func(t *testing.T) {
		noCRD := example.DeepCopy()
		noCRD.Namespace = env.Namespace(t)
		if err := kube.Create(ctx, noCRD); err != nil {
			t.Fatal(err)
		}
		got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(noCRD), "Stalled RetriesExceeded", stalledWith(helmv2.RetriesExceededReason))
		ready := condition(got, meta.ReadyCondition)
		// `no matches for kind "ServiceMonitor" in version
		// "monitoring.coreos.com/v1"`; in a rerun in the same process, after
		// the first run deleted the CRD, the controller's cached discovery
		// still maps the kind and the server refuses the write instead,
		// naming it "monitoring.coreos.com/v1, Kind=ServiceMonitor".
		for _, want := range []string{"Helm install failed for release " + noCRD.Namespace + "/ingress-nginx", "ingress-nginx@4.10.0",
			"ServiceMonitor", "monitoring.coreos.com/v1", "install retries exhausted after 4 failure(s)", "--reset", "--force"} {
			if !strings.Contains(ready.Message, want) {
				t.Errorf("Ready message %q lacks %q", ready.Message, want)
			}
		}
		if got.Status.InstallFailures != 4 || got.Status.UpgradeFailures != 0 || got.Status.LastAttemptedRevision != "4.10.0" {
			t.Errorf("counters %+v", got.Status)
		}
		controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, helmv2.InstallFailedReason, "ServiceMonitor")
		deleteAndWait(t, noCRD)
	})
	if t.Failed() {
		return
	}

	serviceMonitorCRD(t)
	hr := example.DeepCopy()
	if err := kube.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteAndWait(t, &helmv2.HelmRelease{ObjectMeta: metav1ObjectMeta(hr.Namespace, hr.Name)}) })
	key := client.ObjectKeyFromObject(hr)
	releasedAt := func(version string) func(*helmv2.HelmRelease) bool {
		return func(o *helmv2.HelmRelease) bool {
			return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation &&
				len(o.Status.History) > 0 && o.Status.History[0].ChartVersion == version
		}
	}

	// Installed on the newest 4.x: neither 3.40.0 nor 5.0.0.
	got := controllertest.WaitFor(t, kube, key, "Ready on 4.10.0", releasedAt("4.10.0"))
	controllertest.AssertKStatus(t, got)
	// At the first try: the CRD created after the first case's failures is
	// seen at once, not after a failed install and a remediation.
	if got.Status.InstallFailures != 0 || got.Status.History[0].Version != 1 {
		t.Errorf("install on 4.10.0 not at the first try:\n%s", controllertest.Describe(got))
	}
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.InstallSucceededReason || !strings.Contains(c.Message, "ingress-nginx@4.10.0") {
		t.Errorf("Released = %+v", c)
	}
	dep := ingressDeployment(t)
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 || dep.Status.ReadyReplicas != 3 || dep.Labels["helm.sh/chart"] != "ingress-nginx-4.10.0" {
		t.Errorf("Deployment: replicas %v, ready %d, labels %v", dep.Spec.Replicas, dep.Status.ReadyReplicas, dep.Labels)
	}
	svc := &corev1.Service{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}, svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Annotations["service.beta.kubernetes.io/aws-load-balancer-type"] != "nlb" {
		t.Errorf("Service: type %s, annotations %v", svc.Spec.Type, svc.Annotations)
	}
	sm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor"}}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}, sm); err != nil {
		t.Errorf("the ServiceMonitor: %v", err)
	} else if port, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints"); len(port) != 1 {
		t.Errorf("ServiceMonitor endpoints %v", port)
	}
	if inv := got.Status.Inventory; inv == nil || !hasEntry(inv, "ingress-nginx_ingress-nginx-controller_monitoring.coreos.com_ServiceMonitor") {
		t.Errorf("inventory lacks the ServiceMonitor: %+v", inv)
	}
	if row := fluxGetRow(t, "ingress-nginx", "ingress-nginx"); row[0] != "ingress-nginx" || row[1] != "4.10.0" || row[2] != "False" || row[3] != "True" ||
		!strings.Contains(row[4], "Helm install succeeded for release ingress-nginx/ingress-nginx.v1 with chart ingress-nginx@4.10.0") {
		t.Errorf("flux get helmrelease ingress-nginx -n ingress-nginx: %q", row)
	}

	// A newer 4.x upgrades.
	publish(helmtest.IngressNginxChart("4.11.0"))
	got = controllertest.WaitFor(t, kube, key, "Ready on 4.11.0", releasedAt("4.11.0"))
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.UpgradeSucceededReason || !strings.Contains(c.Message, "ingress-nginx.v2 with chart ingress-nginx@4.11.0") {
		t.Errorf("Released = %+v", c)
	}
	if dep := ingressDeployment(t); dep.Labels["helm.sh/chart"] != "ingress-nginx-4.11.0" || dep.Status.ReadyReplicas != 3 {
		t.Errorf("Deployment after the upgrade: labels %v, ready %d", dep.Labels, dep.Status.ReadyReplicas)
	}

	// 4.12.0's pods can never be scheduled. Each upgrade fails on the
	// Deployment's ProgressDeadlineExceeded, seen by the watch-based
	// waiter, not at the release's 5m timeout: the Ready message below
	// names the deadline and never a timeout, and the whole of this step,
	// four upgrades and three rollbacks, is bounded under that one
	// timeout. (Locally it takes seconds; a loaded CI machine has taken
	// over two minutes.)
	publish(helmtest.IngressNginxChartNeverProgresses("4.12.0"))
	var stalled *helmv2.HelmRelease
	if err := testcluster.Poll(4*time.Minute+30*time.Second, func() (bool, error) {
		stalled = &helmv2.HelmRelease{}
		if err := kube.Get(ctx, key, stalled); err != nil {
			return false, err
		}
		return stalledWith(helmv2.RetriesExceededReason)(stalled), nil
	}); err != nil {
		t.Fatalf("waiting for 4.12.0's upgrades to fail, be rolled back and stall: %v\n%s\nhelm history %s\nDeployment %s",
			err, controllertest.Describe(stalled), historyLine(helmHistory(t, "ingress-nginx", "ingress-nginx")), deploymentProgress(t))
	}
	got = stalled
	ready := condition(got, meta.ReadyCondition)
	for _, want := range []string{ // v9: the fourth upgrade (v3, v5, v7, v9; a rollback between each).
		"Helm upgrade failed for release ingress-nginx/ingress-nginx.v9 with chart ingress-nginx@4.12.0",
		"Deployment/ingress-nginx/ingress-nginx-controller", "Progress deadline exceeded", "has timed out progressing",
		"upgrade retries exhausted after 4 failure(s)", "--reset", "--force"} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready message %q lacks %q", ready.Message, want)
		}
	}
	for _, unwanted := range []string{"context deadline exceeded", "timed out waiting"} {
		if strings.Contains(ready.Message, unwanted) {
			t.Errorf("Ready message %q: the upgrade waited for its timeout (%q) instead of failing on the Deployment's state", ready.Message, unwanted)
		}
	}
	if got.Status.UpgradeFailures != 4 || got.Status.Failures != 4 || got.Status.InstallFailures != 0 ||
		got.Status.LastAttemptedReleaseAction != helmv2.ReleaseActionUpgrade || got.Status.LastAttemptedRevision != "4.12.0" {
		t.Errorf("counters after 1 + 3 upgrade attempts: %+v", got.Status)
	}
	if c := condition(got, helmv2.RemediatedCondition); c == nil || c.Status != metav1.ConditionTrue || c.Reason != helmv2.RollbackSucceededReason {
		t.Errorf("Remediated = %+v", c)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, helmv2.UpgradeFailedReason, "Progress deadline exceeded")
	// 4 upgrades and 4 rollbacks after the 2 releases: revision 10, of
	// which the default maxHistory (5) keeps the last five.
	const stalledHistory = "6:superseded:ingress-nginx-4.11.0 7:failed:ingress-nginx-4.12.0 8:superseded:ingress-nginx-4.11.0 " +
		"9:failed:ingress-nginx-4.12.0 10:deployed:ingress-nginx-4.11.0"
	if h := historyLine(helmHistory(t, "ingress-nginx", "ingress-nginx")); h != stalledHistory {
		t.Errorf("helm history\n got %s\nwant %s", h, stalledHistory)
	}
	if dep := ingressDeployment(t); dep.Labels["helm.sh/chart"] != "ingress-nginx-4.11.0" || dep.Spec.Template.Spec.NodeSelector != nil {
		t.Errorf("Deployment after the rollbacks: labels %v, nodeSelector %v", dep.Labels, dep.Spec.Template.Spec.NodeSelector)
	}
	if row := fluxGetRow(t, "ingress-nginx", "ingress-nginx"); row[1] != "4.11.0" || row[3] != "False" || !strings.Contains(row[4], "upgrade retries exhausted") {
		t.Errorf("flux get helmrelease ingress-nginx -n ingress-nginx when stalled: %q", row)
	}

	// A requested reconcile does not retry: the retries are spent.
	controllertest.RequestReconcile(t, kube, got, "poke")
	got = controllertest.WaitFor(t, kube, key, "poke handled", func(o *helmv2.HelmRelease) bool { return o.Status.LastHandledReconcileAt == "poke" })
	if h := historyLine(helmHistory(t, "ingress-nginx", "ingress-nginx")); !reconcile.IsTrue(got, meta.StalledCondition) || h != stalledHistory {
		t.Errorf("a requested reconcile retried a release whose retries are spent:\n%s\nhelm history %s", controllertest.Describe(got), h)
	}

	// A fixed 4.x: Ready on it, the counters start again.
	publish(helmtest.IngressNginxChart("4.12.1"))
	got = controllertest.WaitFor(t, kube, key, "Ready on 4.12.1", releasedAt("4.12.1"))
	if got.Status.Failures != 0 || got.Status.UpgradeFailures != 0 || got.Status.History[0].Version != 11 {
		t.Errorf("after the fix:\n%s\nhelm history %s", controllertest.Describe(got), historyLine(helmHistory(t, "ingress-nginx", "ingress-nginx")))
	}
	if c := condition(got, helmv2.RemediatedCondition); c != nil {
		t.Errorf("Remediated outlived a successful upgrade: %+v", c)
	}
	if dep := ingressDeployment(t); dep.Labels["helm.sh/chart"] != "ingress-nginx-4.12.1" || dep.Status.ReadyReplicas != 3 {
		t.Errorf("Deployment on the fix: labels %v, ready %d", dep.Labels, dep.Status.ReadyReplicas)
	}
	if row := fluxGetRow(t, "ingress-nginx", "ingress-nginx"); row[1] != "4.12.1" || row[3] != "True" {
		t.Errorf("flux get helmrelease ingress-nginx -n ingress-nginx on the fix: %q", row)
	}
}

func hasEntry(inv *helmv2.ResourceInventory, id string) bool {
	for _, e := range inv.Entries {
		if e.ID == id {
			return true
		}
	}
	return false
}
