package kustomize

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolvePath throws arbitrary paths at the confined filesystem's path
// resolution: whatever it accepts must lie inside the artifact root, even
// through a symbolic link that points out of it.
func FuzzResolvePath(f *testing.F) {
	for _, seed := range []string{
		"", ".", "apps/base/kustomization.yaml", "../etc/passwd", "/etc/passwd", "apps/../../x",
		"escape/passwd", "escape", "apps/./base//x", "..", strings.Repeat("../", 40) + "etc",
		"apps/base/../../../root", "\x00", "apps/\u00e9t\u00e9",
	} {
		f.Add(seed)
	}
	root := f.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "apps", "base"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "escape")); err != nil {
		f.Fatal(err)
	}
	fsys, err := newConfinedFS(root, false)
	if err != nil {
		f.Fatal(err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path string) {
		resolved, _, err := fsys.resolve(path)
		if err != nil {
			var escape *escapeError
			if errors.As(err, &escape) && !errors.Is(err, ErrPathEscapes) {
				t.Fatalf("escape error %v does not wrap ErrPathEscapes", err)
			}
			return
		}
		if !within(resolved, realRoot) && !within(resolved, root) {
			t.Fatalf("resolve(%q) = %q, outside the root %q", path, resolved, root)
		}
	})
}
