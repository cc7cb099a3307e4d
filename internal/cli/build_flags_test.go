package cli

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func configMap(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: apps\ndata:\n  k: v\n"
}

func nestedKustomization(name, source, path string) string {
	return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
		"\n  namespace: flux-system\nspec:\n  interval: 1h\n  prune: true\n  path: " + path +
		"\n  sourceRef:\n    kind: GitRepository\n    name: " + source + "\n"
}

// buildTree writes a fleet repository and a second one:
//
//	fleet/clusters/prod: a ConfigMap, drafts/ and *.bak.yaml to ignore, and
//	  the Kustomizations apps (same source, ./apps) and infra (other source)
//	fleet/apps: a ConfigMap and a Kustomization back to clusters/prod (a loop)
//	infra/base: a ConfigMap
func buildTree(t *testing.T) (fleet, infra, ksFile string) {
	t.Helper()
	root := t.TempDir()
	fleet, infra = filepath.Join(root, "fleet"), filepath.Join(root, "infra")
	writeFiles(t, fleet, map[string]string{
		"clusters/prod/cluster.yaml":    configMap("cluster"),
		"clusters/prod/old.bak.yaml":    configMap("old"),
		"clusters/prod/drafts/wip.yaml": configMap("wip"),
		"clusters/prod/apps.yaml":       nestedKustomization("apps", "flux-system", "./apps"),
		"clusters/prod/infra.yaml":      nestedKustomization("infra", "infra", "./base"),
		"apps/app.yaml":                 configMap("app"),
		"apps/loop.yaml":                nestedKustomization("flux-system", "flux-system", "./clusters/prod"),
	})
	writeFiles(t, infra, map[string]string{"base/infra.yaml": configMap("infra")})
	ksFile = filepath.Join(root, "flux-system.yaml")
	writeFiles(t, root, map[string]string{"flux-system.yaml": nestedKustomization("flux-system", "flux-system", "./clusters/prod")})
	return fleet, infra, ksFile
}

func buildArgs(path, ksFile string, extra ...string) []string {
	return append([]string{"build", "kustomization", "flux-system", "-n", "flux-system", "--path", path,
		"--kustomization-file", ksFile, "--dry-run"}, extra...)
}

// TestBuildKustomizationIgnorePaths leaves out what --ignore-paths names,
// the same with and without --in-memory-build, and never writes --path.
func TestBuildKustomizationIgnorePaths(t *testing.T) {
	fleet, _, ksFile := buildTree(t)
	prod := filepath.Join(fleet, "clusters", "prod")
	before := readTree(t, fleet)

	out, errOut, err := runFlux(t, "", buildArgs(prod, ksFile, "--ignore-paths", "/drafts/,*.bak.yaml")...)
	if err != nil {
		t.Fatalf("build --ignore-paths: %v\n%s", err, errOut)
	}
	checkGolden(t, "build/ignore-paths.yaml", out)
	if strings.Contains(out, "name: wip") || strings.Contains(out, "name: old") || !strings.Contains(out, "name: cluster") {
		t.Errorf("--ignore-paths: drafts/ and *.bak.yaml must be left out, cluster kept:\n%s", out)
	}
	inMemory, errOut, err := runFlux(t, "", buildArgs(prod, ksFile, "--ignore-paths", "/drafts/,*.bak.yaml", "--in-memory-build")...)
	if err != nil || inMemory != out {
		t.Errorf("--in-memory-build gives another output (%v):\n%s\n%s", err, inMemory, errOut)
	}
	all, _, err := runFlux(t, "", buildArgs(prod, ksFile, "--in-memory-build")...)
	if err != nil || !strings.Contains(all, "name: wip") {
		t.Errorf("without --ignore-paths everything is built: %v\n%s", err, all)
	}
	assertTree(t, fleet, before)
}

// TestBuildKustomizationRecursive builds the Kustomizations the output
// holds: those of the same source from the same tree, others from
// --local-sources, each once.
func TestBuildKustomizationRecursive(t *testing.T) {
	fleet, infra, ksFile := buildTree(t)
	prod := filepath.Join(fleet, "clusters", "prod")
	ignore := []string{"--ignore-paths", "/drafts/,*.bak.yaml"}

	out, errOut, err := runFlux(t, "", buildArgs(prod, ksFile, append(ignore, "-r")...)...)
	if err != nil {
		t.Fatalf("build -r: %v\n%s", err, errOut)
	}
	checkGolden(t, "build/recursive.yaml", out)
	wantLines(t, errOut, "► Kustomization/flux-system/infra skipped: its source GitRepository/flux-system/infra has no local directory",
		"► Kustomization/flux-system/flux-system skipped: already built")

	out, errOut, err = runFlux(t, "", buildArgs(prod, ksFile, append(ignore, "--recursive", "--in-memory-build",
		"--local-sources", "GitRepository/flux-system/infra="+infra)...)...)
	if err != nil {
		t.Fatalf("build -r --local-sources: %v\n%s", err, errOut)
	}
	checkGolden(t, "build/recursive-local-sources.yaml", out)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--local-sources", "GitRepository/flux-system/infra=" + infra}, "only used with --recursive"},
		{[]string{"-r", "--local-sources", "GitRepository/infra=" + infra}, "Kind/namespace/name=path"},
		{[]string{"-r", "--local-sources", "GitRepository/flux-system/infra=" + filepath.Join(infra, "nope")}, "is not a directory"},
	} {
		if _, _, err := runFlux(t, "", buildArgs(prod, ksFile, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("build %v: want an error with %q, got %v", tc.args, tc.want, err)
		}
	}
}

// TestDiffKustomizationFlags: --ignore-not-found, --in-memory-build and
// --progress-bar of flux diff against the cluster.
func TestDiffKustomizationFlags(t *testing.T) {
	ns := readFixture(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha}\ndata: {k: a}\n",
		"b.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: beta}\ndata: {k: b}\n",
		"drafts/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: draft}\ndata: {k: x}\n",
	})
	// The draft is new: without --ignore-paths it shows as created.
	out, _, err := runFlux(t, "", "-n", ns, "diff", "ks", "app", "--path", dir, "--in-memory-build")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(out, "ConfigMap/"+ns+"/draft created") {
		t.Errorf("diff with a new draft: want exit 1 and the draft created, got %v\n%s", err, out)
	}
	for _, extra := range [][]string{nil, {"--in-memory-build"}} {
		args := append([]string{"-n", ns, "diff", "ks", "app", "--path", dir, "--ignore-paths", "drafts/"}, extra...)
		if out, errOut, err := runFlux(t, "", args...); err != nil || out != "" {
			t.Errorf("diff %v: want no difference, got %v\n%s%s", extra, err, out, errOut)
		}
	}

	// --ignore-not-found: a Kustomization missing from the cluster.
	_, errOut, err := runFlux(t, "", "-n", ns, "diff", "ks", "nothere", "--path", dir, "--ignore-not-found")
	if err != nil || !strings.Contains(errOut, "Kustomization "+ns+"/nothere not found in the cluster: nothing to diff") {
		t.Errorf("--ignore-not-found: want exit 0 and a note, got %v\n%s", err, errOut)
	}
	_, _, err = runFlux(t, "", "-n", ns, "diff", "ks", "nothere", "--path", dir)
	if !errors.As(err, &exit) || exit.Code != 2 || !strings.Contains(err.Error(), "not found") {
		t.Errorf("without --ignore-not-found: want exit 2 naming the Kustomization, got %v", err)
	}

	// --progress-bar draws nothing when stderr is not a terminal; the bar
	// itself redraws in place and is erased.
	out, errOut, err = runFlux(t, "", "-n", ns, "diff", "ks", "app", "--path", dir, "--ignore-paths", "drafts/", "--progress-bar=true")
	if err != nil || out != "" || strings.Contains(errOut, "diffing") {
		t.Errorf("--progress-bar to a pipe: want nothing drawn, got %v\n%q", err, errOut)
	}
	var buf bytes.Buffer
	bar := &progressBar{w: &buf, total: 2, width: 4}
	bar.step()
	bar.step()
	bar.clear()
	if want := "\r◎ diffing [==  ] 1/2\r◎ diffing [====] 2/2\r\033[K"; buf.String() != want {
		t.Errorf("progress bar: want %q, got %q", want, buf.String())
	}
	var nilBar *progressBar
	nilBar.step()
	nilBar.clear()
}
