package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffKustomization diffs local directories against the objects the
// Kustomization "app" of readFixture applied: the same files give exit
// code 0, edited ones 1 with the diff, a broken build 2.
func TestDiffKustomization(t *testing.T) {
	ns := readFixture(t)
	dir := t.TempDir()
	write := func(files map[string]string) {
		t.Helper()
		for name, content := range files {
			path := filepath.Join(dir, name)
			if content == "" {
				os.Remove(path)
				continue
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(map[string]string{
		"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha}\ndata: {k: a}\n",
		"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: beta}\ndata: {k: b}\n",
	})
	out, errOut, err := runFlux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", dir)
	if err != nil || out != "" {
		t.Fatalf("diff of unchanged files: want exit code 0 and no output, got %v\n%s%s", err, out, errOut)
	}

	write(map[string]string{
		"a.yaml": "",
		"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: beta}\ndata: {k: changed, extra: x}\n",
		"c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gamma}\ndata: {k: c}\n",
	})
	out, errOut, err = runFlux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", dir)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("diff of changed files: want exit code 1, got %v\n%s", err, errOut)
	}
	checkGolden(t, "diff/kustomization-changed.txt", normalise(out, ns))
	for _, want := range []string{"► ConfigMap/" + ns + "/gamma created", "► ConfigMap/" + ns + "/beta drifted",
		"-  k: b", "+  k: changed", "► ConfigMap/" + ns + "/alpha deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}

	_, _, err = runFlux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", filepath.Join(dir, "missing"))
	if !errors.As(err, &exit) || exit.Code != 2 {
		t.Errorf("diff of a missing directory: want exit code 2, got %v", err)
	}
	_, _, err = runFlux(t, "", "-n", ns, "diff", "kustomization", "nothere", "--path", dir)
	if !errors.As(err, &exit) || exit.Code != 2 || !strings.Contains(err.Error(), "not found") {
		t.Errorf("diff of a missing Kustomization: want exit code 2 and not found, got %v", err)
	}
}

func TestUnifiedDiff(t *testing.T) {
	var b strings.Builder
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	c := "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
	unifiedDiff(&b, "live", "merged", a, c)
	want := "--- live\n+++ merged\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n"
	if b.String() != want {
		t.Errorf("unifiedDiff:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	unifiedDiff(&b, "live", "merged", a, a)
	if b.String() != "" {
		t.Errorf("unifiedDiff of equal texts printed %q", b.String())
	}
}

// TestDiffKustomizationIgnorePaths leaves files out of the local build with
// --ignore-paths and .sourceignore, as the source-controller would.
func TestDiffKustomizationIgnorePaths(t *testing.T) {
	ns := readFixture(t)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"a.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha}\ndata: {k: a}\n",
		"b.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: beta}\ndata: {k: b}\n",
		"extra/c.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gamma}\ndata: {k: c}\n",
		"drafts/d.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: delta}\ndata: {k: d}\n",
		"drafts/.sourceignore": "*.yaml\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var exit *ExitError
	out, _, err := runFlux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", dir, "--ignore-paths=/extra/")
	if err != nil || out != "" {
		t.Fatalf("with extra/ ignored: want exit code 0 and no output, got %v\n%s", err, out)
	}
	out, _, err = runFlux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", dir, "--ignore-paths=b.yaml")
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(out, "ConfigMap/"+ns+"/gamma created") ||
		!strings.Contains(out, "ConfigMap/"+ns+"/beta deleted") || strings.Contains(out, "delta") {
		t.Fatalf("with b.yaml ignored: want exit code 1, gamma created, beta deleted, no delta; got %v\n%s", err, out)
	}
	_, _, err = runFlux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", filepath.Join(dir, "missing"), "--ignore-paths=x")
	if !errors.As(err, &exit) || exit.Code != 2 {
		t.Fatalf("a missing --path: want exit code 2, got %v", err)
	}
	if !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("a missing --path: %v", err)
	}
}
