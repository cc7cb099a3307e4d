package helmkube_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// TestWaitEndsWhenReady installs a ConfigMap-only release with the watcher
// strategy: the wait watches the ConfigMap and ends once it is there.
func TestWaitEndsWhenReady(t *testing.T) {
	ns := env.Namespace(t)
	target := newTarget(t, env.Config)
	rel, err := install(actionConfig(t, target, ns), ns, "quick", sdkChart(t, helmtest.ConfigMapChart("demo", "1.0.0")), nil)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if rel.Info.Status != "deployed" {
		t.Errorf("release status %s, want deployed", rel.Info.Status)
	}
	if s := target.Checker().Cache().Stats(); s.Started == 0 {
		t.Errorf("the install waited without watching anything: %+v", s)
	}
}

// TestWaitFailsFast installs a chart whose custom resource reports
// Stalled=True: the install fails on that status, not at its timeout, and
// names the object. The chart brings the CRD, so Helm's reset of the shared
// RESTMapper after installing it is what lets the resource be mapped.
func TestWaitFailsFast(t *testing.T) {
	ns := env.Namespace(t)
	group := strings.ToLower(t.Name()) + ".driftless.dev"
	chart := helmtest.NewChart("widgets", "1.0.0").
		CRD("widgets.yaml", helmtest.CRDManifest(group, "Widget")).
		Template("widget.yaml", fmt.Sprintf(`apiVersion: %s/v1
kind: Widget
metadata:
  name: broken
status:
  conditions:
  - type: Ready
    status: "False"
    reason: BadConfig
    message: the widget cannot start
  - type: Stalled
    status: "True"
    reason: BadConfig
    message: the widget cannot start
`, group)).
		Template("configmap.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
data: {}
`)
	t.Cleanup(func() { deleteCRD(t, "widgets."+group) })
	target := newTarget(t, env.Config)
	rel, err := install(actionConfig(t, target, ns), ns, "widgets", sdkChart(t, chart), nil)
	if err == nil {
		t.Fatal("install of a Stalled widget succeeded")
	}
	t.Logf("install error: %v", err)
	failed, ok := errorAs[*health.FailedError](err)
	if !ok {
		t.Fatalf("install: %v (%T), want a *health.FailedError: the wait must end on the failure, not at the timeout", err, err)
	}
	if len(failed.Failed) != 1 || failed.Failed[0].Ref.Kind != "Widget" || failed.Failed[0].Ref.Name != "broken" {
		t.Errorf("failed objects: %v, want Widget broken only", failed.Failed)
	}
	if want := "Widget/" + ns + "/broken"; !strings.Contains(err.Error(), want) {
		t.Errorf("install error %q does not name %s", err, want)
	}
	if rel == nil || rel.Info.Status != "failed" {
		t.Errorf("release after the failed wait: %+v, want status failed", rel)
	}
}

// TestWaitWithJobs: Wait does not wait for Jobs, WaitWithJobs does and names
// the Job still running when the time is up.
func TestWaitWithJobs(t *testing.T) {
	ns := env.Namespace(t)
	target := newTarget(t, env.Config)
	cfg := actionConfig(t, target, ns)
	resources := create(t, cfg.KubeClient, `apiVersion: batch/v1
kind: Job
metadata:
  name: held
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
`)
	waiter := getWaiter(t, cfg.KubeClient, kube.StatusWatcherStrategy)
	if err := waiter.Wait(resources, time.Second); err != nil {
		t.Errorf("Wait on a suspended Job: %v, want nil: Jobs are not waited for", err)
	}
	err := waiter.WaitWithJobs(resources, time.Second)
	timedOut, ok := errorAs[*health.TimeoutError](err)
	if !ok || len(timedOut.NotReady) != 1 || timedOut.NotReady[0].Ref.Name != "held" {
		t.Errorf("WaitWithJobs on a suspended Job: %v, want a timeout naming Job held", err)
	}
}

// TestWatchUntilReadyHooks waits for hook Pods as Helm does: a Pod is done
// when it has succeeded, and a failed one ends the wait at once.
func TestWatchUntilReadyHooks(t *testing.T) {
	ns := env.Namespace(t)
	target := newTarget(t, env.Config)
	cfg := actionConfig(t, target, ns)
	waiter := getWaiter(t, cfg.KubeClient, kube.StatusWatcherStrategy)

	for _, c := range []struct {
		name  string
		phase corev1.PodPhase
		check func(error) string
	}{
		{"succeeds", corev1.PodSucceeded, func(err error) string {
			if err != nil {
				return fmt.Sprintf("%v, want nil", err)
			}
			return ""
		}},
		{"fails", corev1.PodFailed, func(err error) string {
			failed, ok := errorAs[*health.FailedError](err)
			if !ok || len(failed.Failed) != 1 || failed.Failed[0].Ref.Name != "fails" {
				return fmt.Sprintf("%v, want a *health.FailedError naming Pod fails", err)
			}
			return ""
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resources := create(t, cfg.KubeClient, hookPod(c.name))
			done := make(chan error, 1)
			go func() { done <- waiter.WatchUntilReady(resources, timeout) }()
			setPodPhase(t, ns, c.name, corev1.PodRunning)
			setPodPhase(t, ns, c.name, c.phase)
			if msg := c.check(<-done); msg != "" {
				t.Errorf("WatchUntilReady on a Pod that %s: %s", c.name, msg)
			}
		})
	}

	// Running is not done: a hook Pod must run to completion.
	resources := create(t, cfg.KubeClient, hookPod("runs"))
	setPodPhase(t, ns, "runs", corev1.PodRunning)
	err := waiter.WatchUntilReady(resources, time.Second)
	if timedOut, ok := errorAs[*health.TimeoutError](err); !ok || len(timedOut.NotReady) != 1 || timedOut.NotReady[0].Ref.Name != "runs" {
		t.Errorf("WatchUntilReady on a running Pod: %v, want a timeout naming Pod runs", err)
	}
}

// TestWaitForDelete ends when the object is deleted and names what is left
// when the time is up.
func TestWaitForDelete(t *testing.T) {
	ns := env.Namespace(t)
	target := newTarget(t, env.Config)
	cfg := actionConfig(t, target, ns)
	waiter := getWaiter(t, cfg.KubeClient, kube.StatusWatcherStrategy)
	resources := create(t, cfg.KubeClient, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: doomed\n")

	err := waiter.WaitForDelete(resources, time.Second)
	if err == nil || !strings.Contains(err.Error(), "ConfigMap/"+ns+"/doomed") {
		t.Errorf("WaitForDelete on a ConfigMap nobody deletes: %v, want a timeout naming it", err)
	}

	done := make(chan error, 1)
	go func() { done <- waiter.WaitForDelete(resources, timeout) }()
	if err := env.Kube.CoreV1().ConfigMaps(ns).Delete(context.Background(), "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("WaitForDelete on a deleted ConfigMap: %v", err)
	}
}

// TestStrategies: the watcher and hook-only strategies wait with health, the
// legacy one with Helm's own waiter; hook-only waits for nothing but hooks.
func TestStrategies(t *testing.T) {
	ns := env.Namespace(t)
	cfg := actionConfig(t, newTarget(t, env.Config), ns)
	for _, s := range []kube.WaitStrategy{kube.StatusWatcherStrategy, kube.HookOnlyStrategy, helmkube.WaitStrategy("poller"), helmkube.WaitStrategy("")} {
		if w := getWaiter(t, cfg.KubeClient, s); fmt.Sprintf("%T", w) != "*helmkube.Waiter" {
			t.Errorf("strategy %q: waiter %T, want *helmkube.Waiter", s, w)
		}
	}
	if w := getWaiter(t, cfg.KubeClient, helmkube.WaitStrategy("legacy")); fmt.Sprintf("%T", w) == "*helmkube.Waiter" {
		t.Error("the legacy strategy waits with health, want Helm's waiter")
	}
	resources := create(t, cfg.KubeClient, `apiVersion: batch/v1
kind: Job
metadata:
  name: held
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
`)
	if err := getWaiter(t, cfg.KubeClient, kube.HookOnlyStrategy).WaitWithJobs(resources, time.Second); err != nil {
		t.Errorf("hook-only WaitWithJobs: %v, want nil", err)
	}
}

func getWaiter(t *testing.T, kc kube.Interface, s kube.WaitStrategy) kube.Waiter {
	t.Helper()
	w, err := kc.GetWaiter(s)
	if err != nil {
		t.Fatalf("GetWaiter(%q): %v", s, err)
	}
	return w
}

// create builds manifest with the configuration's kube client and creates it.
func create(t *testing.T, kc kube.Interface, manifest string) kube.ResourceList {
	t.Helper()
	resources, err := kc.Build(strings.NewReader(manifest), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Create(resources); err != nil {
		t.Fatal(err)
	}
	return resources
}

// hookPod is a Pod no node can take, so only the test sets its phase.
func hookPod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  nodeSelector:
    driftless.dev/no-such-node: "true"
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
`, name)
}

func setPodPhase(t *testing.T, ns, name string, phase corev1.PodPhase) {
	t.Helper()
	pods := env.Kube.CoreV1().Pods(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status.Phase = phase
		_, err = pods.UpdateStatus(context.Background(), pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("pod %s to %s: %v", name, phase, err)
	}
}

func deleteCRD(t *testing.T, name string) {
	if err := env.Dynamic.Resource(crdResource).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Logf("delete CRD %s: %v", name, err)
	}
}
