package testcluster_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var env *testcluster.Cluster

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{Nodes: 2}, &env) }

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1.0.0"}}},
			},
		},
	}
}

func TestDeploymentBecomesAvailable(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	if _, err := env.Kube.AppsV1().Deployments(ns).Create(ctx, deployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 60*time.Second, "deployment web 2/2 available", func() (bool, error) {
		d, err := env.Kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
				return d.Status.AvailableReplicas == 2 && d.Status.ReadyReplicas == 2, nil
			}
		}
		return false, nil
	})
	pods, err := env.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" || p.Status.PodIP == "" {
			t.Errorf("pod %s: phase %s, node %q, IP %q; want Running on a node with an IP", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
		}
	}
}

func TestNodesAreReady(t *testing.T) {
	nodes, err := env.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 2 {
		t.Fatalf("want 2 nodes, got %d", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		ready := false
		for _, c := range n.Status.Conditions {
			ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
		}
		if !ready {
			t.Errorf("node %s is not Ready", n.Name)
		}
	}
}

func TestServerReportsKubernetes136(t *testing.T) {
	v, err := env.Kube.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.Major != "1" || v.Minor != "36" || !strings.HasPrefix(v.GitVersion, "v1.36.") {
		t.Errorf("server version %s (major %q minor %q), want v1.36.x", v.GitVersion, v.Major, v.Minor)
	}
}

func TestNamespaceDeletionCompletes(t *testing.T) {
	ctx := context.Background()
	name := "doomed-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Kube.AppsV1().Deployments(name).Create(ctx, deployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"k": "v"}}
	if _, err := env.Kube.CoreV1().ConfigMaps(name).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 60*time.Second, "pods running before the delete", func() (bool, error) {
		pods, err := env.Kube.CoreV1().Pods(name).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == 2, nil
	})
	if err := env.Kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 90*time.Second, "namespace "+name+" gone", func() (bool, error) {
		_, err := env.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// TestObjectsSurviveRestart stops a cluster and starts it again on the same
// data directory: built-in objects and custom resources are still there,
// with the same UIDs, and no process of the first run is left.
func TestObjectsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := testcluster.Start(ctx, testcluster.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Stop() })
	cm, err := first.Kube.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"answer": "42"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gitrepos := schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	repo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "survivor", "namespace": "default"},
		"spec":     map[string]any{"interval": "1m", "url": "https://example.com/repo"},
	}}
	created, err := first.Dynamic.Resource(gitrepos).Namespace("default").Create(ctx, repo, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.StopKeepData(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if left := processesMentioning(dir); len(left) > 0 {
		t.Fatalf("processes left after stop: %v", left)
	}

	second, err := testcluster.Start(ctx, testcluster.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	got, err := second.Kube.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ConfigMap lost across restart: %v", err)
	}
	if got.UID != cm.UID || got.Data["answer"] != "42" {
		t.Errorf("ConfigMap changed across restart: uid %s→%s data %v", cm.UID, got.UID, got.Data)
	}
	gotRepo, err := second.Dynamic.Resource(gitrepos).Namespace("default").Get(ctx, "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("GitRepository lost across restart: %v", err)
	}
	if gotRepo.GetUID() != created.GetUID() {
		t.Errorf("GitRepository uid %s→%s", created.GetUID(), gotRepo.GetUID())
	}
}

// processesMentioning lists the command lines of live processes that name s.
func processesMentioning(s string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte(s)) {
			found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return found
}

// TestUnusableStartIsRefusedClearly runs the binary where it cannot work and
// expects a quick non-zero exit with a message that names the problem.
func TestUnusableStartIsRefusedClearly(t *testing.T) {
	bin, err := testcluster.Binary()
	if err != nil {
		t.Fatal(err)
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"data dir is a file", []string{"--data-dir", notADir}, []string{notADir}},
		{"data dir in use", []string{"--data-dir", env.DataDir()}, []string{"in use"}},
		{"api server port taken", []string{"--data-dir", t.TempDir(), "--apiserver-port", busyPort}, []string{busyPort, "in use"}},
		{"no data dir", nil, []string{"--data-dir"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, tc.args...).CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("still running after 30s; output:\n%s", out)
			}
			if err == nil {
				t.Fatalf("exited 0; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPodExitCodeAnnotation: a pod meant to finish succeeds, unless
// annotated with a non-zero exit code, which it then fails with, as a
// failing Helm hook or test does on a real node.
func TestPodExitCodeAnnotation(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	for name, code := range map[string]string{"ok": "", "fails": "7"} {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "hook", Image: "busybox"}}},
		}
		if code != "" {
			p.Annotations = map[string]string{testcluster.ExitCodeAnnotation: code}
		}
		if _, err := env.Kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	finished := func(name string) *corev1.Pod {
		var got *corev1.Pod
		err := testcluster.Poll(time.Minute, func() (bool, error) {
			p, err := env.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			got = p
			return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
		})
		if err != nil {
			t.Fatalf("pod %s never finished: %v (%+v)", name, err, got.Status)
		}
		return got
	}
	if p := finished("ok"); p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("pod without the annotation: %s", p.Status.Phase)
	}
	p := finished("fails")
	term := p.Status.ContainerStatuses[0].State.Terminated
	if p.Status.Phase != corev1.PodFailed || term == nil || term.ExitCode != 7 || term.Reason != "Error" {
		t.Errorf("annotated pod: phase %s, terminated %+v; want Failed with exit code 7", p.Status.Phase, term)
	}
}
