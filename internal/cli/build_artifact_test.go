package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/ignore"
)

// writeTree writes files (path: content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tarEntries lists the entries of a tar.gz: name -> content ("" for dirs).
func tarEntries(t *testing.T, b []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(tr)
		out[h.Name] = string(c)
	}
}

func names(m map[string]string) string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, " ")
}

func buildArtifactRun(t *testing.T, args ...string) ([]byte, string, error) {
	t.Helper()
	o := newOfflineFlux(t)
	out := filepath.Join(t.TempDir(), "artifact.tgz")
	err := o.run(append([]string{"build", "artifact", "-o", out}, args...)...)
	b, _ := os.ReadFile(out)
	return b, o.errOut.String(), err
}

// TestBuildArtifactIsTheGitRepositoryArtifact: the same directory gives
// the same bytes twice, and the bytes the storage archives for a
// GitRepository (with .sourceignore and spec.ignore as --ignore-paths).
func TestBuildArtifactIsTheGitRepositoryArtifact(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"deploy/app.yaml":    "kind: ConfigMap\n",
		"deploy/notes.md":    "notes\n",
		"docs/guide.md":      "guide\n",
		"logo.png":           "png",
		".git/HEAD":          "ref: refs/heads/main\n",
		".sourceignore":      "docs/\n",
		"keep/.sourceignore": "!*.md\n",
		"keep/readme.md":     "kept\n",
	})
	if err := os.Chmod(filepath.Join(dir, "deploy", "app.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	first, _, err := buildArtifactRun(t, "-p", dir, "--ignore-paths", "*.md,!keep/*.md")
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := buildArtifactRun(t, "--path", dir, "--ignore-paths", "*.md", "--ignore-paths", "!keep/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two builds of the same directory differ")
	}
	if got := names(tarEntries(t, first)); got != ".sourceignore deploy/ deploy/app.yaml keep/ keep/.sourceignore keep/readme.md logo.png" {
		t.Errorf("entries: %s", got)
	}
	spec := "*.md\n!keep/*.md"
	if !bytes.Equal(first, gitRepositoryArtifact(t, dir, &spec)) {
		t.Error("flux build artifact differs from the GitRepository artifact of the same directory")
	}

	// Without --ignore-paths: the .sourceignore files alone.
	plain, _, err := buildArtifactRun(t, "-p", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tarEntries(t, plain)); got != ".sourceignore deploy/ deploy/app.yaml deploy/notes.md keep/ keep/.sourceignore keep/readme.md logo.png" {
		t.Errorf("entries without --ignore-paths: %s", got)
	}
	if !bytes.Equal(plain, gitRepositoryArtifact(t, dir, nil)) {
		t.Error("without --ignore-paths: flux build artifact differs from the GitRepository artifact")
	}
	// No ignore file at all: Flux's default exclusions (images, CI files).
	bare := t.TempDir()
	writeTree(t, bare, map[string]string{"app.yaml": "a: 1\n", "logo.png": "png", ".github/workflows/ci.yaml": "on: push\n"})
	b, _, err := buildArtifactRun(t, "-p", bare)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tarEntries(t, b)); got != "app.yaml" {
		t.Errorf("default exclusions: entries %s", got)
	}
}

// gitRepositoryArtifact is what the storage archives for a GitRepository of
// dir with that spec.ignore.
func gitRepositoryArtifact(t *testing.T, dir string, spec *string) []byte {
	t.Helper()
	storage, err := artifact.NewStorage(artifact.Options{Root: t.TempDir(), AdvAddr: "127.0.0.1:9090"})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ignore.Load(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := storage.Archive(dir, "gitrepository/ns/name/a.tar.gz", rules)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(storage.Root(), a.Path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBuildArtifactOutputInsideThePath: -p . -o artifact.tgz gives the same
// bytes on the second run, with the first one's file in the directory.
func TestBuildArtifactOutputInsideThePath(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"app.yaml": "a: 1\n", ".sourceignore": "# none\n"})
	out := filepath.Join(dir, "artifact.tgz")
	var builds [][]byte
	for range 2 {
		o := newOfflineFlux(t)
		if err := o.run("build", "artifact", "-p", dir, "-o", out); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		builds = append(builds, b)
	}
	if !bytes.Equal(builds[0], builds[1]) {
		t.Error("the second build differs: it archived the first one's output")
	}
	if got := names(tarEntries(t, builds[1])); got != ".sourceignore app.yaml" {
		t.Errorf("entries: %s", got)
	}
}

func TestBuildArtifactSymlinks(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret.txt": "outside\n"})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"base/app.yaml": "a: 1\n"})
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("base/app.yaml", "app-link.yaml")
	link("base", "base-link")

	// Without --resolve-symlinks links are left out, as in a GitRepository
	// artifact, and said so.
	b, errOut, err := buildArtifactRun(t, "-p", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tarEntries(t, b)); got != "base/ base/app.yaml" {
		t.Errorf("entries without --resolve-symlinks: %s", got)
	}
	if !strings.Contains(errOut, "app-link.yaml") {
		t.Errorf("want a note about the links left out, got %q", errOut)
	}

	// With it, links inside the directory become what they point to.
	b, _, err = buildArtifactRun(t, "-p", dir, "--resolve-symlinks")
	if err != nil {
		t.Fatal(err)
	}
	entries := tarEntries(t, b)
	if got := names(entries); got != "app-link.yaml base-link/ base-link/app.yaml base/ base/app.yaml" {
		t.Errorf("entries with --resolve-symlinks: %s", got)
	}
	if entries["app-link.yaml"] != "a: 1\n" {
		t.Errorf("app-link.yaml holds %q", entries["app-link.yaml"])
	}

	// A link out of the directory, or in a loop, is refused; nothing is written.
	for name, target := range map[string]string{"escape.txt": filepath.Join(outside, "secret.txt"), "loop": "."} {
		link(target, name)
		b, _, err = buildArtifactRun(t, "-p", dir, "--resolve-symlinks")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("link %s -> %s: want an error naming it, got %v", name, target, err)
		}
		if b != nil {
			t.Errorf("link %s: an artifact was written", name)
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildArtifactBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.yaml")
	writeTree(t, filepath.Dir(file), map[string]string{"f.yaml": "a: 1\n"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--path is required"},
		{[]string{"-p", "/no/such/dir"}, "--path /no/such/dir"},
		{[]string{"-p", file}, "is not a directory"},
		{[]string{"-p", filepath.Dir(file), "-o", "/no/such/dir/a.tgz"}, "--output /no/such/dir/a.tgz"},
		{[]string{"-p", filepath.Dir(file), "extra"}, `unknown command "extra"`},
	} {
		o := newOfflineFlux(t)
		err := o.run(append([]string{"build", "artifact"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error with %q, got %v", tc.args, tc.want, err)
		}
	}
}
