package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocgen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docs")
	o := newOfflineFlux(t)
	if err := o.run("docgen", "--path", dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
	}
	// One page per command: every path of Flux's CLI, their groups, the root.
	for _, path := range FluxCommandPaths() {
		if path == "docgen" {
			continue // hidden, as in Flux
		}
		words := strings.Fields(path)
		for i := range words {
			name := "flux_" + strings.Join(words[:i+1], "_") + ".md"
			if !files[name] {
				t.Errorf("no page %s", name)
			}
		}
	}
	for _, name := range []string{"flux.md", "flux_describe_kustomization.md"} {
		if !files[name] {
			t.Errorf("no page %s", name)
		}
	}
	if files["flux_docgen.md"] || files["flux_help.md"] {
		t.Error("the hidden docgen and cobra's help have pages")
	}

	page, err := os.ReadFile(filepath.Join(dir, "flux_build_artifact.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## flux build artifact\n\nBuild an artifact tarball from a local directory\n",
		"### Synopsis\n",
		"```\nflux build artifact [flags]\n```",
		"### Examples\n",
		"--resolve-symlinks",
		"### Options inherited from parent commands\n",
		"--kube-api-qps",
		"* [flux build](flux_build.md)",
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("flux_build_artifact.md lacks %q:\n%s", want, page)
		}
	}
	// The page of a stub (the first one of the tree, whichever it is as
	// commands get built) says it is not built.
	if path := firstStub(o); path != "" {
		stub, err := os.ReadFile(filepath.Join(dir, "flux_"+strings.ReplaceAll(path, " ", "_")+".md"))
		if err != nil || !strings.Contains(string(stub), notBuiltMessage(path)) {
			t.Errorf("the page of a stub says it is not built: %v\n%s", err, stub)
		}
	}

	// The same tree gives the same pages.
	again := filepath.Join(t.TempDir(), "again")
	if err := newOfflineFlux(t).run("docgen", "--path", again); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(again, "flux_build_artifact.md"))
	if withoutKubeconfig(string(b)) != withoutKubeconfig(string(page)) {
		t.Error("docgen is not deterministic")
	}

	if err := newOfflineFlux(t).run("docgen"); err == nil || !strings.Contains(err.Error(), "--path is required") {
		t.Errorf("docgen without --path: %v", err)
	}
	if err := newOfflineFlux(t).run("docgen", "--path", filepath.Join(dir, "flux.md", "x")); err == nil || !strings.Contains(err.Error(), "--path") {
		t.Errorf("docgen --path under a file: %v", err)
	}
}

// withoutKubeconfig drops the --kubeconfig line, whose default each test
// factory sets to a file of its own.
func withoutKubeconfig(page string) string {
	var keep []string
	for _, l := range strings.Split(page, "\n") {
		if !strings.Contains(l, "--kubeconfig") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// firstStub is the command path (after "flux") of the first not-built stub
// in the tree, "" when every command is built.
func firstStub(o *offlineFlux) string {
	for _, path := range FluxCommandPaths() {
		if cmd, rest, err := o.root.Find(strings.Fields(path)); err == nil && len(rest) == 0 && IsNotBuilt(cmd) {
			return path
		}
	}
	return ""
}
