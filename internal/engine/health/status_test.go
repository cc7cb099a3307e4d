package health_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/engine/health"
)

// load reads a YAML object from testdata the way a watch decodes it
// (integers as int64).
func load(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// TestStatus computes the status of every object in testdata/status; the
// states are asserted here, the messages against testdata/status.golden.
func TestStatus(t *testing.T) {
	want := map[string]health.State{
		"configmap":                           health.Current,
		"cronjob":                             health.Current,
		"crd-established":                     health.Current,
		"crd-installing":                      health.InProgress,
		"crd-names-conflict":                  health.Failed,
		"custom-malformed-conditions":         health.Unknown,
		"custom-no-status":                    health.Current,
		"custom-ready-false":                  health.InProgress,
		"daemonset-no-status":                 health.InProgress,
		"daemonset-ready":                     health.Current,
		"daemonset-updating":                  health.InProgress,
		"deployment-available":                health.Current,
		"deployment-deadline-exceeded":        health.Failed,
		"deployment-default-replicas-unready": health.InProgress,
		"deployment-malformed":                health.Unknown,
		"deployment-no-status":                health.InProgress,
		"deployment-not-available-yet":        health.InProgress,
		"deployment-old-generation":           health.InProgress,
		"deployment-rolling":                  health.InProgress,
		"deployment-scaled-to-zero":           health.Current,
		"deployment-surplus":                  health.InProgress,
		"deployment-terminating":              health.Terminating,
		"job-complete":                        health.Current,
		"job-failed":                          health.Failed,
		"job-not-started":                     health.InProgress,
		"job-running":                         health.InProgress,
		"job-suspended":                       health.InProgress,
		"kustomization-not-observed":          health.InProgress,
		"kustomization-ready":                 health.Current,
		"kustomization-reconciling":           health.InProgress,
		"kustomization-stalled":               health.Failed,
		"namespace-active":                    health.Current,
		"namespace-terminating":               health.Terminating,
		"pdb-met":                             health.Current,
		"pdb-not-met":                         health.InProgress,
		"pdb-unobserved":                      health.InProgress,
		"pod-crashloop":                       health.Failed,
		"pod-failed":                          health.Failed,
		"pod-ready":                           health.Current,
		"pod-running-not-ready":               health.InProgress,
		"pod-succeeded":                       health.Current,
		"pod-unschedulable":                   health.InProgress,
		"pvc-bound":                           health.Current,
		"pvc-lost":                            health.Failed,
		"pvc-pending":                         health.InProgress,
		"replicaset-failure":                  health.InProgress,
		"replicaset-ready":                    health.Current,
		"service-clusterip":                   health.Current,
		"service-lb-pending":                  health.Current,
		"service-lb-ready":                    health.Current,
		"statefulset-not-ready":               health.InProgress,
		"statefulset-ondelete":                health.Current,
		"statefulset-partition-done":          health.Current,
		"statefulset-ready":                   health.Current,
		"statefulset-rolling":                 health.InProgress,
	}
	files, err := filepath.Glob(filepath.Join("testdata", "status", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("%d files in testdata/status, %d expectations: keep them in step", len(files), len(want))
	}
	var lines []string
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			got := health.Status(load(t, file))
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected state for %s", file)
			}
			if got.Status != w {
				t.Errorf("%s: status %s (%q), want %s", file, got.Status, got.Message, w)
			}
			if got.Message == "" {
				t.Errorf("%s: empty message", file)
			}
			lines = append(lines, fmt.Sprintf("%s: %s: %s", name, got.Status, got.Message))
		})
	}
	sort.Strings(lines)
	golden(t, filepath.Join("testdata", "status.golden"), strings.Join(lines, "\n")+"\n")
}

// golden compares got with a golden file, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestStatusOfNothingIsNotFound(t *testing.T) {
	if got := health.Status(nil); got.Status != health.NotFound {
		t.Errorf("Status(nil) = %+v, want NotFound", got)
	}
}

// TestStatusReadsJSONFloats: objects decoded into plain maps carry numbers
// as float64; whole ones are counts, fractional ones a malformed status.
func TestStatusReadsJSONFloats(t *testing.T) {
	deploy := func(replicas any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "namespace": "apps", "generation": float64(1)},
			"spec":     map[string]any{"replicas": replicas},
			"status": map[string]any{
				"observedGeneration": float64(1), "replicas": float64(2), "updatedReplicas": float64(2),
				"readyReplicas": float64(2), "availableReplicas": float64(2),
				"conditions": []any{
					map[string]any{"type": "Available", "status": "True"},
					map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
				},
			},
		}}
	}
	if got := health.Status(deploy(float64(2))); got.Status != health.Current {
		t.Errorf("whole float replicas: %+v, want Current", got)
	}
	got := health.Status(deploy(2.5))
	if got.Status != health.Unknown || !strings.Contains(got.Message, ".spec.replicas") {
		t.Errorf("fractional replicas: %+v, want Unknown naming .spec.replicas", got)
	}
}
