package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies the directory src into a new temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrateFiles rewrites the apiVersions of Flux kinds in a tree of
// manifests: the listing, the prompt, the rewrite and a second run.
func TestMigrateFiles(t *testing.T) {
	dir := copyTree(t, filepath.Join("testdata", "migrate", "in", "apps"))
	before := readTree(t, dir)

	out, errOut, err := runFlux(t, "", "migrate", "-f", dir, "--dry-run")
	if err != nil {
		t.Fatalf("migrate --dry-run: %v\n%s", err, errOut)
	}
	checkGolden(t, "migrate/dry-run.txt", strings.ReplaceAll(out, dir, "DIR"))
	if !strings.Contains(errOut, "dry-run") {
		t.Errorf("dry-run does not say so:\n%s", errOut)
	}
	assertTree(t, dir, before)

	// Declining the prompt changes nothing.
	if _, _, err := runFlux(t, "n\n", "migrate", "-f", dir); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("declined prompt: want a cancelled error, got %v", err)
	}
	assertTree(t, dir, before)

	// Accepting it rewrites the files, and only the apiVersion text.
	if _, errOut, err := runFlux(t, "y\n", "migrate", "-f", dir); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut)
	}
	after := readTree(t, dir)
	checkGolden(t, "migrate/out/apps.yaml", after["apps.yaml"])
	checkGolden(t, "migrate/out/sub/images.yml", after[filepath.Join("sub", "images.yml")])
	for _, same := range []string{"readme.txt", "current.yaml"} {
		if after[same] != before[same] {
			t.Errorf("%s changed:\n%s", same, after[same])
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "apps.yaml")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("apps.yaml lost its permissions: %v %v", fi.Mode(), err)
	}

	out, errOut, err = runFlux(t, "", "migrate", "-f", dir, "-y")
	if err != nil || out != "" || !strings.Contains(errOut, "no custom resources found") {
		t.Errorf("second run: want nothing to migrate, got %v\n%s%s", err, out, errOut)
	}
}

// TestMigrateFilesVersionAndExtensions migrates one file, to a named Flux
// version, and with extensions of the user's choice.
func TestMigrateFilesVersionAndExtensions(t *testing.T) {
	dir := t.TempDir()
	tpl := filepath.Join(dir, "release.tpl")
	content := "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: redis\n"
	if err := os.WriteFile(tpl, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFlux(t, "", "migrate", "-f", tpl, "-y"); err == nil || !strings.Contains(err.Error(), "--extensions") {
		t.Errorf("a .tpl file without -e .tpl: want an error naming --extensions, got %v", err)
	}
	out, errOut, err := runFlux(t, "", "migrate", "-f", dir, "-e", ".tpl", "-v", "2.8", "-y")
	if err != nil {
		t.Fatalf("migrate -e .tpl -v 2.8: %v\n%s", err, errOut)
	}
	if want := tpl + ":1: HelmRelease helm.toolkit.fluxcd.io/v2beta2 -> helm.toolkit.fluxcd.io/v2\n"; out != want {
		t.Errorf("listing: want %q, got %q", want, out)
	}
	if got, _ := os.ReadFile(tpl); string(got) != strings.Replace(content, "v2beta2", "v2", 1) {
		t.Errorf("release.tpl: got\n%s", got)
	}
	if _, _, err := runFlux(t, "", "migrate", "-f", dir, "-v", "2.5"); err == nil ||
		!strings.Contains(err.Error(), "--version 2.5 is not supported") || !strings.Contains(err.Error(), "2.9") {
		t.Errorf("-v 2.5: want an error listing the supported versions, got %v", err)
	}
	if _, _, err := runFlux(t, "", "migrate", "-v", "2.9"); err == nil || !strings.Contains(err.Error(), "-f PATH") {
		t.Errorf("-v without -f: want an error asking for -f, got %v", err)
	}
}

// TestMigrateFilesRefusesInvalidYAML stops before writing anything when
// one file is not YAML, naming it.
func TestMigrateFilesRefusesInvalidYAML(t *testing.T) {
	dir := t.TempDir()
	good := "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: a\n"
	files := map[string]string{
		"a-good.yaml": good,
		"b-bad.yaml":  "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nspec: {policy: [\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := runFlux(t, "", "migrate", "-f", dir, "-y")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b-bad.yaml")) || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("want an error naming b-bad.yaml, got %v", err)
	}
	assertTree(t, dir, files)
	if _, _, err := runFlux(t, "", "migrate", "-f", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing path: want an error naming it, got %v", err)
	}
}

func assertTree(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := readTree(t, dir)
	if len(got) != len(want) {
		t.Errorf("files: want %d, got %d", len(want), len(got))
	}
	for name, content := range want {
		if got[name] != content {
			t.Errorf("%s changed:\n%s", name, got[name])
		}
	}
}
