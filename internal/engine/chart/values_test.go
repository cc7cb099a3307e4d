package chart

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valuesSource writes a source with a chart under charts/demo and values
// files, and returns the source root and the loaded chart.
func valuesSource(t *testing.T) (string, *Chart) {
	t.Helper()
	root := t.TempDir()
	files := basicChart("demo", "1.0.0")
	files["values-prod.yaml"] = "replicas: 3\nimage:\n  tag: v2\n"
	dir := writeChart(t, filepath.Join(root, "charts"), "demo", files)
	writeFiles(t, root, map[string]string{
		"env/override.yaml": "image:\n  tag: v3\nextra: true\n",
		"env/multi.yaml":    "a: 1\n---\nb: 2\n",
		"env/bad.yaml":      "a: [1\n",
	})
	return root, mustLoad(t, dir)
}

func TestMergeValuesInOrder(t *testing.T) {
	root, c := valuesSource(t)
	values, found, err := MergeValues(root, c, []string{"charts/demo/values.yaml", "./charts/demo/values-prod.yaml", "/env/override.yaml", "env/multi.yaml"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"replicas": float64(3),
		"image":    map[string]any{"tag": "v3", "pull": "Always"},
		"extra":    true,
		"a":        float64(1),
		"b":        float64(2),
	}
	if !reflect.DeepEqual(values, want) {
		t.Fatalf("values = %v, want %v", values, want)
	}
	if want := []string{"charts/demo/values.yaml", "./charts/demo/values-prod.yaml", "/env/override.yaml", "env/multi.yaml"}; !reflect.DeepEqual(found, want) {
		t.Fatalf("found = %v, want %v", found, want)
	}
	// The reverse order: the chart's defaults win now.
	values, _, err = MergeValues(root, c, []string{"env/override.yaml", "charts/demo/values.yaml"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if values["image"].(map[string]any)["tag"] != "v1" || values["extra"] != true {
		t.Fatalf("reverse order: %v", values)
	}
}

func TestMergeValuesLeavesOutValuesYAMLUnlessListed(t *testing.T) {
	root, c := valuesSource(t)
	values, _, err := MergeValues(root, c, []string{"env/override.yaml"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := values["replicas"]; ok {
		t.Fatalf("values.yaml merged without being listed: %v", values)
	}
	values, found, err := MergeValues(root, c, nil, false)
	if values != nil || found != nil || err != nil {
		t.Fatalf("no files: got %v %v %v, want nothing", values, found, err)
	}
}

func TestMergeValuesFromTheChart(t *testing.T) {
	_, c := valuesSource(t)
	values, found, err := MergeValues("", c, []string{"values.yaml", "values-prod.yaml", "absent.yaml"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if values["replicas"] != float64(3) || values["image"].(map[string]any)["pull"] != "Always" {
		t.Fatalf("values = %v", values)
	}
	if !reflect.DeepEqual(found, []string{"values.yaml", "values-prod.yaml"}) {
		t.Fatalf("found = %v", found)
	}
	_, _, err = MergeValues("", c, []string{"../values.yaml"}, true)
	var ipe *IllegalPathError
	if !errors.As(err, &ipe) || !strings.Contains(err.Error(), "leaves the chart") {
		t.Fatalf("escaping the chart: got %v", err)
	}
}

func TestMergeValuesMissing(t *testing.T) {
	root, c := valuesSource(t)
	_, _, err := MergeValues(root, c, []string{"env/override.yaml", "env/absent.yaml"}, false)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "values file 'env/absent.yaml' not found in source") {
		t.Fatalf("missing: got %v", err)
	}
	values, found, err := MergeValues(root, c, []string{"env/absent.yaml", "env/override.yaml", "nowhere/x.yaml"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(found, []string{"env/override.yaml"}) || values["extra"] != true {
		t.Fatalf("ignoring missing: values %v, found %v", values, found)
	}
	values, found, err = MergeValues(root, c, []string{"env/absent.yaml"}, true)
	if values != nil || found != nil || err != nil {
		t.Fatalf("all missing and ignored: got %v %v %v, want nothing", values, found, err)
	}
}

func TestMergeValuesRefusesPathsOutOfTheSource(t *testing.T) {
	root, c := valuesSource(t)
	outside := writeFile(t, t.TempDir(), "secret.yaml", []byte("stolen: true\n"))
	if err := os.Symlink(outside, filepath.Join(root, "env", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../secret.yaml", "env/../../secret.yaml", "env/link.yaml", "linkdir/secret.yaml", ".", ""} {
		for _, ignore := range []bool{false, true} {
			_, _, err := MergeValues(root, c, []string{name}, ignore)
			var ipe *IllegalPathError
			if !errors.As(err, &ipe) || !strings.Contains(err.Error(), "'"+name+"'") {
				t.Fatalf("MergeValues(%q, ignore=%v): got %v, want an IllegalPathError naming it", name, ignore, err)
			}
		}
	}
}

func TestMergeValuesBadFiles(t *testing.T) {
	root, c := valuesSource(t)
	_, _, err := MergeValues(root, c, []string{"env/bad.yaml"}, true)
	if err == nil || !strings.Contains(err.Error(), "values file 'env/bad.yaml'") {
		t.Fatalf("invalid YAML: got %v", err)
	}
	_, _, err = MergeValues(root, c, []string{"env"}, false)
	if err == nil || !strings.Contains(err.Error(), "values file 'env' is not a regular file") {
		t.Fatalf("a directory: got %v", err)
	}
	small := &Chart{sdk: c.sdk, path: c.path, dir: c.dir, limits: Limits{MaxSize: DefaultMaxSize, MaxFileSize: 10}}
	_, _, err = MergeValues(root, small, []string{"env/override.yaml"}, false)
	if err == nil || !strings.Contains(err.Error(), "values file 'env/override.yaml' of 29 bytes is over the maximum file size of 10 bytes") {
		t.Fatalf("a values file over the limit: got %v", err)
	}
}
