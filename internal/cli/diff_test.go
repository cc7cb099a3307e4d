package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
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

// recursiveFixture makes, in a fresh namespace, two Git repositories and
// the Kustomization "top" applying clusters/top of the first. That path
// holds a ConfigMap, "top" itself (as bootstrap's flux-system does), the
// Kustomization "child" of apps/child in the same repository and "other"
// of other/ in the second repository. It waits until all are Ready and
// returns the namespace and local copies of both repositories.
func recursiveFixture(t *testing.T) (ns, local, local2 string) {
	t.Helper()
	ns = env.Namespace(t)
	ks := func(name, source, path string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
			"\nspec:\n  interval: 1h\n  prune: true\n  path: " + path + "\n  targetNamespace: ${ns}\n" +
			"  sourceRef:\n    kind: GitRepository\n    name: " + source + "\n"
	}
	files := map[string]string{
		"clusters/top/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: top-cm}\ndata: {k: top}\n",
		"clusters/top/self.yaml":  ks("top", "repo", "./clusters/top") + "  postBuild:\n    substitute:\n      ns: ${ns}\n",
		"clusters/top/child.yaml": ks("child", "repo", "./apps/child"),
		"clusters/top/other.yaml": ks("other", "repo2", "./other"),
		"apps/child/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: child-cm}\ndata: {k: child}\n",
	}
	files2 := map[string]string{
		"other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-cm}\ndata: {k: other}\n",
	}
	root := t.TempDir()
	srv := gittest.NewHTTPServer(t, root, gittest.HTTPOptions{})
	local, local2 = t.TempDir(), t.TempDir()
	for i, set := range []map[string]string{files, files2} {
		repo := gittest.NewRepoAt(t, root, fmt.Sprintf("repo%d", i+1))
		repo.CommitFiles("main", set, "fixture")
		writeFiles(t, []string{local, local2}[i], set)
		name := []string{"repo", "repo2"}[i]
		gr := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}}
		if err := kube.Create(context.Background(), gr); err != nil {
			t.Fatal(err)
		}
	}
	top := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "top", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Prune: true,
			Path: "./clusters/top", TargetNamespace: ns, PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{"ns": ns}},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}}}
	if err := kube.Create(context.Background(), top); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"top", "child", "other"} {
		waitReadyObject(t, &kustomizev1.Kustomization{}, ns, name)
	}
	return ns, local, local2
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDiffKustomizationRecursive diffs "top" and the Kustomizations it
// holds, each built from its source's local directory.
func TestDiffKustomizationRecursive(t *testing.T) {
	ns, local, local2 := recursiveFixture(t)
	path := filepath.Join(local, "clusters", "top")
	sources := "--local-sources=GitRepository/" + ns + "/repo2=" + local2
	diff := func(args ...string) (string, string, int) {
		t.Helper()
		out, errOut, err := runFlux(t, "", append([]string{"-n", ns, "diff", "kustomization", "top", "--path", path}, args...)...)
		var exit *ExitError
		switch {
		case err == nil:
			return out, errOut, 0
		case errors.As(err, &exit):
			return out, errOut + err.Error(), exit.Code
		}
		t.Fatalf("diff %v: %v", args, err)
		return "", "", 0
	}

	out, errOut, code := diff("--recursive", sources)
	if code != 0 || out != "" {
		t.Fatalf("unchanged tree: want exit code 0 and no output, got %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Kustomization/"+ns+"/top skipped: already diffed") {
		t.Errorf("unchanged tree: want a note that top contains itself, got:\n%s", errOut)
	}

	// A change in the nested path only: without --recursive no difference.
	writeFiles(t, local, map[string]string{
		"apps/child/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: child-cm}\ndata: {k: changed}\n"})
	if out, errOut, code := diff(); code != 0 {
		t.Fatalf("nested change without --recursive: want exit code 0, got %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = diff("--recursive", sources)
	if code != 1 {
		t.Fatalf("nested change: want exit code 1, got %d\n%s%s", code, out, errOut)
	}
	checkGolden(t, "diff/recursive-child.txt", normalise(out, ns))
	if !strings.Contains(out, "=== Kustomization/"+ns+"/child (path ./apps/child) ===\n► ConfigMap/"+ns+"/child-cm drifted") ||
		strings.Contains(out, "Kustomization/"+ns+"/top (") {
		t.Errorf("nested change: want only the section of child, got:\n%s", out)
	}

	// A change in the second repository, whose local copy --local-sources gives.
	writeFiles(t, local, map[string]string{
		"apps/child/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: child-cm}\ndata: {k: child}\n"})
	writeFiles(t, local2, map[string]string{
		"other/new.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-new}\ndata: {k: new}\n"})
	out, errOut, code = diff("-r", sources)
	if code != 1 || !strings.Contains(out, "=== Kustomization/"+ns+"/other (path ./other) ===\n► ConfigMap/"+ns+"/other-new created") ||
		strings.Contains(out, "/child (") {
		t.Fatalf("change in the second repository: want exit code 1 and the section of other, got %d\n%s%s", code, out, errOut)
	}

	// Without a local directory for repo2, other is skipped with a note.
	out, errOut, code = diff("--recursive")
	if code != 0 || out != "" {
		t.Fatalf("repo2 not mapped: want exit code 0 and no output, got %d\n%s%s", code, out, errOut)
	}
	want := "► Kustomization/" + ns + "/other skipped: its source GitRepository/" + ns + "/repo2 has no local directory"
	if !strings.Contains(errOut, want) {
		t.Errorf("repo2 not mapped: want %q on stderr, got:\n%s", want, errOut)
	}

	// A new nested Kustomization: created in top's section, and its
	// objects created in its own.
	writeFiles(t, local, map[string]string{
		"clusters/top/extra.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: extra}\n" +
			"spec: {interval: 1h, path: ./apps/extra, targetNamespace: '${ns}', sourceRef: {kind: GitRepository, name: repo}}\n",
		"apps/extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra-cm}\n"})
	if err := os.Remove(filepath.Join(local2, "other", "new.yaml")); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = diff("--recursive", sources)
	if code != 1 {
		t.Fatalf("new nested Kustomization: want exit code 1, got %d\n%s%s", code, out, errOut)
	}
	checkGolden(t, "diff/recursive-new.txt", normalise(out, ns))

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--recursive", "--local-sources=repo2=" + local2}, "Kind/namespace/name=path"},
		{[]string{"--recursive", "--local-sources=GitRepository/" + ns + "/repo2=" + filepath.Join(local2, "nope")}, "is not a directory"},
		{[]string{sources}, "only used with --recursive"},
	} {
		_, _, err := runFlux(t, "", append([]string{"-n", ns, "diff", "kustomization", "top", "--path", path}, tc.args...)...)
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want exit code 2 and %q, got %v", tc.args, tc.want, err)
		}
	}
}
