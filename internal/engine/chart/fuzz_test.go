package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadArchive feeds arbitrary bytes to the archive loader: it must
// return a chart or an error, never panic, and never load more than its
// limits allow.
func FuzzLoadArchive(f *testing.F) {
	f.Add(makeTgz(f, tarEntry{name: "x/Chart.yaml", body: chartYAML("x", "1.0.0")}))
	f.Add(makeTgz(f, tarEntry{name: "x/../../e", body: "a"}))
	f.Add([]byte("not an archive"))
	limits := Limits{MaxSize: 64 << 10, MaxFileSize: 16 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadArchive("fuzz", data, "", limits)
		if err != nil {
			return
		}
		var total int
		for _, file := range c.SDK().Raw {
			if len(file.Data) > int(limits.MaxFileSize) {
				t.Fatalf("file %s of %d bytes loaded over the file limit", file.Name, len(file.Data))
			}
			total += len(file.Data)
		}
		if total > int(limits.MaxSize) {
			t.Fatalf("%d bytes loaded over the chart limit", total)
		}
	})
}

// FuzzMergeValues merges an arbitrary values file named by an arbitrary
// path: it must never read outside the source, nor panic.
func FuzzMergeValues(f *testing.F) {
	f.Add("values.yaml", "a: 1\n")
	f.Add("../secret.yaml", "a: [1\n")
	f.Add("sub/../../secret.yaml", "---\n---\nb: {c: 1}\n")
	f.Fuzz(func(t *testing.T, name, content string) {
		if strings.ContainsRune(name, 0) {
			return
		}
		tmp := t.TempDir()
		if err := os.WriteFile(filepath.Join(tmp, "secret.yaml"), []byte("stolen: true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(tmp, "source")
		writeFiles(t, root, map[string]string{"values.yaml": content, "sub/keep": ""})
		c := mustLoad(t, writeChart(t, root, "c", basicChart("c", "1.0.0")))
		values, _, err := MergeValues(root, c, []string{name}, true)
		if err == nil && values["stolen"] == true {
			t.Fatalf("read %q outside the source", name)
		}
	})
}
