package graph

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fleetReady is the fixed Ready state of each object of the demo fleet in
// the golden files: all Ready but apps, whose health check failed.
var fleetReady = map[string]struct {
	status metav1.ConditionStatus
	reason string
}{
	"GitRepository/flux-system":       {metav1.ConditionTrue, "Succeeded"},
	"Kustomization/flux-system":       {metav1.ConditionTrue, "ReconciliationSucceeded"},
	"Kustomization/infra-controllers": {metav1.ConditionTrue, "ReconciliationSucceeded"},
	"Kustomization/infra-configs":     {metav1.ConditionTrue, "ReconciliationSucceeded"},
	"Kustomization/apps":              {metav1.ConditionFalse, "HealthCheckFailed"},
}

// fleet is the demo fleet as the cluster holds it after `make demo`: the
// Kustomizations examples/fleet/clusters/local declares, read from their
// YAML, and the GitRepository and Kustomization flux-system that
// bootstrap writes (in clusters/local/flux-system, not in the example), all
// labelled as applied by flux-system, as the controller labels them.
func fleet(t *testing.T) []kinds.Object {
	t.Helper()
	repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "flux-system"}}
	root := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "flux-system"}}
	root.Spec.Path = "./clusters/local"
	root.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "flux-system"}
	out := []kinds.Object{repo, root}
	files, err := filepath.Glob("../../../examples/fleet/clusters/local/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fleet files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---\n") {
			k := &kustomizev1.Kustomization{}
			if err := yaml.UnmarshalStrict([]byte(doc), k); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if k.Kind != kustomizev1.KustomizationKind {
				t.Fatalf("%s: a %s, not a Kustomization", f, k.Kind)
			}
			out = append(out, k)
		}
	}
	for _, o := range out {
		appliedBy(o, "flux-system", "flux-system")
		key := o.GetObjectKind().GroupVersionKind().Kind
		if key == "" {
			key = kindName(o)
		}
		st, ok := fleetReady[key+"/"+o.GetName()]
		if !ok {
			t.Fatalf("no Ready state for %s/%s: the fleet changed, add it to fleetReady", key, o.GetName())
		}
		c := metav1.Condition{Type: "Ready", Status: st.status, Reason: st.reason}
		switch obj := o.(type) {
		case *sourcev1.GitRepository:
			obj.Status.Conditions = []metav1.Condition{c}
		case *kustomizev1.Kustomization:
			obj.Status.Conditions = []metav1.Condition{c}
		}
	}
	if len(out) != len(fleetReady) {
		t.Fatalf("%d fleet objects, want %d", len(out), len(fleetReady))
	}
	return out
}

func kindName(o kinds.Object) string {
	k, _ := kinds.Of(o)
	return k.Kind
}

func TestFleetGolden(t *testing.T) {
	g, err := Build(fleet(t), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/fleet.svg", g.SVG())
	golden(t, "testdata/fleet.json", j)
	// What the golden files must show, whatever -update wrote.
	want := []string{
		"GitRepository/flux-system/flux-system -source-> Kustomization/flux-system/apps",
		"GitRepository/flux-system/flux-system -source-> Kustomization/flux-system/flux-system",
		"GitRepository/flux-system/flux-system -source-> Kustomization/flux-system/infra-configs",
		"GitRepository/flux-system/flux-system -source-> Kustomization/flux-system/infra-controllers",
		"Kustomization/flux-system/flux-system -appliedBy-> GitRepository/flux-system/flux-system",
		"Kustomization/flux-system/flux-system -appliedBy-> Kustomization/flux-system/apps",
		"Kustomization/flux-system/flux-system -appliedBy-> Kustomization/flux-system/infra-configs",
		"Kustomization/flux-system/flux-system -appliedBy-> Kustomization/flux-system/infra-controllers",
		"Kustomization/flux-system/infra-configs -dependsOn-> Kustomization/flux-system/apps",
		"Kustomization/flux-system/infra-controllers -dependsOn-> Kustomization/flux-system/infra-configs",
	}
	if got := edgeStrings(g); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fleet edges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	layers := map[string]int{"flux-system": 1, "infra-controllers": 2, "infra-configs": 3, "apps": 4}
	for name, l := range layers {
		if got := g.Node(ksID("flux-system", name)).Layer; got != l {
			t.Errorf("Kustomization %s in layer %d, want %d (flux-system -> infrastructure -> apps)", name, got, l)
		}
	}
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/web/graph/ -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; check the change and run with -update:\n%s", path, got)
	}
}
