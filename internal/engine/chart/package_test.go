package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// tarNames returns the entry names and modification times of the archive
// at p, in order.
func tarNames(t *testing.T, p string) ([]string, []time.Time) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	var times []time.Time
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, times
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		times = append(times, h.ModTime)
	}
}

func TestPackageIsReproducible(t *testing.T) {
	root := t.TempDir()
	files := basicChart("repro", "0.3.0")
	files["values.schema.json"] = `{"type":"object"}`
	files["templates/b.yaml"] = "b: 1\n"
	files["templates/a.yaml"] = "a: 1\n"
	files["crds/crd.yaml"] = "kind: CustomResourceDefinition\n"
	dir := parentChart(t, root, "- name: dep\n  repository: file://../dep\n")
	writeFiles(t, dir, files)
	writeFiles(t, dir, map[string]string{"Chart.yaml": chartYAML("repro", "0.3.0") + "dependencies:\n- name: dep\n  repository: file://../dep\n"})
	writeChart(t, filepath.Join(root, "charts"), "dep", basicChart("dep", "1.0.0"))
	values := map[string]any{"replicas": 2, "image": map[string]any{"tag": "v9"}}

	build := func(out string) []byte {
		c := mustLoad(t, dir)
		if err := BuildDependencies(t.Context(), c, root, nil); err != nil {
			t.Fatal(err)
		}
		p, err := Package(c, values, out)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != "repro-0.3.0.tgz" {
			t.Fatalf("archive named %s", p)
		}
		names, times := tarNames(t, p)
		if !slices.IsSorted(names) {
			t.Fatalf("entries not sorted: %v", names)
		}
		for i, mt := range times {
			if !mt.Equal(packageTime) {
				t.Fatalf("entry %s at %v, want %v", names[i], mt, packageTime)
			}
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	first := build(filepath.Join(root, "out1"))
	// Other file times, a fresh load, another directory: the same bytes.
	later := time.Now().Add(time.Hour)
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, later, later)
	}); err != nil {
		t.Fatal(err)
	}
	second := build(filepath.Join(root, "out2"))
	if !bytes.Equal(first, second) {
		t.Fatal("two packagings of one chart differ")
	}

	// Helm's own loader reads it, with the new values and the dependency.
	p := filepath.Join(root, "out2", "repro-0.3.0.tgz")
	hc, err := loader.Load(p)
	if err != nil {
		t.Fatalf("helm's loader: %v", err)
	}
	if hc.Values["replicas"] != float64(2) || hc.Values["image"].(map[string]any)["tag"] != "v9" || hc.Values["image"].(map[string]any)["pull"] != nil {
		t.Fatalf("values not replaced: %v", hc.Values)
	}
	if len(hc.Dependencies()) != 1 || hc.Dependencies()[0].Name() != "dep" || string(hc.Schema) != `{"type":"object"}` || len(hc.CRDObjects()) != 1 {
		t.Fatalf("chart content lost: deps %d, schema %q", len(hc.Dependencies()), hc.Schema)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "out2")); len(entries) != 1 {
		t.Fatalf("Package left %d files behind", len(entries))
	}
}

func TestPackageKeepsValuesWhenNil(t *testing.T) {
	c := mustLoad(t, writeChart(t, t.TempDir(), "keep", basicChart("keep", "1.0.0")))
	p, err := Package(c, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, p).SDK().Values["image"].(map[string]any)["pull"]; got != "Always" {
		t.Fatalf("values changed: pull = %v", got)
	}
}

func TestPackageRefusesInvalidSchema(t *testing.T) {
	files := basicChart("schema", "1.0.0")
	files["values.schema.json"] = "{not json"
	c := mustLoad(t, writeChart(t, t.TempDir(), "schema", files))
	if _, err := Package(c, nil, t.TempDir()); err == nil {
		t.Fatal("packaged a chart whose values.schema.json is not JSON")
	}
}
