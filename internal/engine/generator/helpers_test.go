package generator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree creates files from a map of slash path to content; a path
// ending in "/" makes an empty directory, content "->target" a symlink.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o750); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns every file of dir as slash path to content, and empty
// directories as "path/" to "".
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator)))
		if d.IsDir() {
			if entries, _ := os.ReadDir(p); len(entries) == 0 {
				out[rel+"/"] = ""
			}
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tarball builds a .tar.gz holding files (name to content).
func tarball(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// run builds sources from trees (alias to files, revision "rev-<alias>")
// and generates spec into a fresh temp dir.
func run(t *testing.T, trees map[string]map[string]string, spec Spec) ([]Result, string, error) {
	t.Helper()
	base := t.TempDir()
	var sources []Source
	for _, alias := range slices.Sorted(maps.Keys(trees)) {
		dir := filepath.Join(base, "src", alias)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		writeTree(t, dir, trees[alias])
		sources = append(sources, Source{Alias: alias, Dir: dir, Revision: "rev-" + alias})
	}
	tmp := filepath.Join(base, "out")
	if err := os.Mkdir(tmp, 0o750); err != nil {
		t.Fatal(err)
	}
	res, err := Generate(t.Context(), sources, spec, tmp)
	return res, tmp, err
}

// one is a spec with a single output "out" made of copies.
func one(copies ...Copy) Spec {
	return Spec{Outputs: []Output{{Name: "out", Copy: copies}}}
}
