package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// --feature-gates: a gate no selected controller knows, or one Driftless
// cannot honour, stops the process at start, saying which and why.
func TestFeatureGatesAreCheckedAtStart(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--feature-gates=NoSuchGate=true"}, []string{`unknown feature gate "NoSuchGate"`, "UseHelm3Defaults=false"}},
		{[]string{"--controllers=source", "--feature-gates=UseHelm3Defaults=true"}, []string{`unknown feature gate "UseHelm3Defaults"`}},
		{[]string{"--feature-gates=ObjectLevelWorkloadIdentity=true"}, []string{"ObjectLevelWorkloadIdentity=true is not supported", "workload identity"}},
		{[]string{"--feature-gates=OOMWatch=maybe"}, []string{"OOMWatch"}},
	} {
		out, err := exec.Command(bin, append(tc.args, "--kubeconfig", env.Kubeconfig(), "--metrics-addr=0", "--health-addr=0")...).CombinedOutput()
		if err == nil {
			t.Errorf("%v: started", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: output %q does not say %q", tc.args, out, w)
			}
		}
	}
}

// OOMWatch: the process runs while its memory use (files standing in for
// the cgroup's) is below the threshold, and shuts down once it reaches it.
func TestOOMWatchShutsTheProcessDown(t *testing.T) {
	dir := t.TempDir()
	max, cur := filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.current")
	if err := os.WriteFile(max, []byte("1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cur, []byte("100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := start(t, "--controllers=helm", "--feature-gates=OOMWatch=true,AdoptLegacyReleases=true",
		"--oom-watch-interval=10ms", "--oom-watch-memory-threshold=90",
		"--oom-watch-max-memory-path="+max, "--oom-watch-current-memory-path="+cur)
	// Ready: the watch has read the use many times without stopping.
	testcluster.Eventually(t, time.Minute, "driftless-controller ready below the threshold", func() (bool, error) {
		select {
		case err := <-in.exited:
			return false, fmt.Errorf("exited below the threshold: %v", err)
		default:
		}
		code, _ := get("http://" + in.health + "/readyz")
		return code == 200, nil
	})
	if err := os.WriteFile(cur, []byte("900\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-in.exited:
		if err == nil {
			t.Error("exited without an error at the threshold")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("still running at 90% of the limit")
	}
	log, _ := os.ReadFile(in.log.Name())
	for _, w := range []string{"memory use reached the threshold", "memory use reached the --oom-watch-memory-threshold", "AdoptLegacyReleases feature gate is deprecated"} {
		if !strings.Contains(string(log), w) {
			t.Errorf("the log does not say %q", w)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

var (
	helmrepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmrepositories"}
	helmreleases     = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
)

// CacheSecretsAndConfigMaps: valuesFrom is read from the group's cache of
// every ConfigMap and Secret, the unlabelled ones included, and a Secret
// changed later is read anew at the next pass.
func TestCacheSecretsAndConfigMaps(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	if _, err := env.Kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "values", Namespace: ns},
		Data:       map[string][]byte{"values.yaml": []byte("message: cached\n")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start(t, "--controllers=source,helm", "--feature-gates=CacheSecretsAndConfigMaps=true")
	create := func(gvr schema.GroupVersionResource, obj map[string]any) {
		t.Helper()
		if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create(helmrepositories, map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
		"metadata": map[string]any{"name": "charts", "namespace": ns},
		"spec":     map[string]any{"interval": "1h", "url": kit.URL},
	})
	create(helmreleases, map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec": map[string]any{"interval": "1h",
			"chart":      map[string]any{"spec": map[string]any{"chart": "app", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"}}},
			"valuesFrom": []any{map[string]any{"kind": "Secret", "name": "values"}}},
	})
	released := func(want string) {
		t.Helper()
		testcluster.Eventually(t, 2*time.Minute, "the release's ConfigMap says "+want, func() (bool, error) {
			cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-app", metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			return cm.Data["message"] == want, nil
		})
	}
	released("cached")

	// The Secret is unlabelled: no watch reconciles on its change; a
	// requested reconcile reads it from the cache.
	sec, err := env.Kube.CoreV1().Secrets(ns).Get(ctx, "values", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data["values.yaml"] = []byte("message: changed\n")
	if _, err := env.Kube.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"` + time.Now().Format(time.RFC3339Nano) + `"}}}`)
	if _, err := env.Dynamic.Resource(helmreleases).Namespace(ns).Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	released("changed")
}
