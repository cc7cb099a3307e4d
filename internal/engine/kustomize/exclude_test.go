package kustomize

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBuildExclude hides files and directories from a build: the generated
// kustomization leaves them out, and a kustomization that names a hidden
// file fails as if it were absent.
func TestBuildExclude(t *testing.T) {
	root := t.TempDir()
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	files := map[string]string{
		"app/a.yaml":                  cm("a"),
		"app/skip.yaml":               cm("skip"),
		"app/drafts/b.yaml":           cm("b"),
		"app/nested/c.yaml":           cm("c"),
		"explicit/kustomization.yaml": "resources: [a.yaml, skip.yaml]\n",
		"explicit/a.yaml":             cm("a"),
		"explicit/skip.yaml":          cm("skip"),
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exclude := func(rel string, dir bool) bool {
		return strings.HasSuffix(rel, "skip.yaml") || (dir && rel == "app/drafts")
	}
	res, err := Build(context.Background(), root, Options{Path: "app", Exclude: exclude})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range res.Objects {
		names = append(names, o.GetName())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a", "c"}) {
		t.Errorf("generated build with exclusions: want [a c], got %v", names)
	}
	if _, err := Build(context.Background(), root, Options{Path: "explicit", Exclude: exclude}); err == nil ||
		!strings.Contains(err.Error(), "skip.yaml") {
		t.Errorf("a kustomization naming a hidden file: want an error naming it, got %v", err)
	}
	if _, err := Build(context.Background(), root, Options{Path: "explicit"}); err != nil {
		t.Errorf("without Exclude the explicit build works: %v", err)
	}
}
