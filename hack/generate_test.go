// Package hack_test checks that the generated files in the repository are
// what hack/generate.sh makes from the current Go types.
package hack_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestGeneratedFilesAreFresh regenerates deepcopy functions and CRDs in a
// scratch copy of the module and fails when any differs from the committed one.
func TestGeneratedFilesAreFresh(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	for _, p := range []string{"go.mod", "go.sum", "api", "hack"} {
		copyTree(t, filepath.Join(repo, p), filepath.Join(scratch, p))
	}
	cmd := exec.Command(filepath.Join(repo, "hack", "generate.sh"), scratch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/generate.sh: %v\n%s", err, out)
	}

	want := generatedFiles(t, scratch)
	got := generatedFiles(t, repo)
	var stale []string
	for name, content := range want {
		if have, ok := got[name]; !ok || !bytes.Equal(have, content) {
			stale = append(stale, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no longer generated)")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Fatalf("generated files are stale; run `make generate` and commit:\n  %s", strings.Join(stale, "\n  "))
	}
	if len(want) == 0 {
		t.Fatal("generation produced no files")
	}
}

// generatedFiles reads every deepcopy file under api/ and every file under
// config/crd, keyed by path relative to root.
func generatedFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	collect := func(dir string, keep func(string) bool) {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !keep(d.Name()) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			files[rel] = b
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	collect("api", func(n string) bool { return n == "zz_generated.deepcopy.go" })
	collect(filepath.Join("config", "crd"), func(n string) bool { return strings.HasSuffix(n, ".yaml") })
	return files
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
