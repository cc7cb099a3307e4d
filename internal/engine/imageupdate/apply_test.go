package imageupdate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func run(t *testing.T, dir string, policies map[string]Image) Result {
	t.Helper()
	res, err := Apply(context.Background(), Options{Root: dir, Policies: policies})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func TestExample05IsTheMissionExample(t *testing.T) {
	mission, err := os.ReadFile("../../../config/testdata/mission-examples/05-setter-marker-deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/example-05/in/apps/payments/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mission, golden) {
		t.Fatal("testdata/example-05 is no longer the mission's example 05: copy it again and run -update")
	}
}

func TestUpdatePathRefused(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "x.yaml"), "image: a:1 # {\"$imagepolicy\": \"apps:web\"}\n")
	writeFile(t, filepath.Join(dir, "apps", "a.yaml"), "a: 1\n")
	link(t, outside, filepath.Join(dir, "out"))
	link(t, "apps", filepath.Join(dir, "in"))
	tests := []struct{ path, want string }{
		{"../", "update.path '../' leaves the repository"},
		{"apps/../..", "update.path 'apps/../..' leaves the repository"},
		{"/etc", "update.path '/etc' leaves the repository"},
		{"out", "update.path 'out' leaves the repository or cannot be read"},
		{"nope", "update.path 'nope' does not exist in the repository"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err := Apply(context.Background(), Options{Root: dir, Path: tc.path, Policies: testPolicies()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "x.yaml")); !strings.Contains(string(b), "a:1") {
		t.Fatal("a file outside the repository was written")
	}
	// A link to a directory inside the repository is a valid path.
	if _, err := Apply(context.Background(), Options{Root: dir, Path: "in", Policies: testPolicies()}); err != nil {
		t.Fatalf("path through an inner link: %v", err)
	}
}

// TestInjection gives policies values that would break the YAML if
// written raw; each must land as exactly that string on the same line.
func TestInjection(t *testing.T) {
	evil := []string{
		"1.0 # {\"$imagepolicy\": \"apps:other\"}",
		"1.0\nevil: true",
		"x: y",
		"\"quoted\" 'and' \\back",
		"- item",
		"*alias",
		"{a: b}",
		"true",
		"~",
		"tab\there",
		"\u2028line separator",
	}
	for i, value := range evil {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			dir := t.TempDir()
			src := "a:\n  plain: old # {\"$imagepolicy\": \"apps:p:tag\"}\n" +
				"  single: 'old' # {\"$imagepolicy\": \"apps:p:tag\"}\n" +
				"  flow: {tag: old, # {\"$imagepolicy\": \"apps:p:tag\"}\n  }\n" +
				"  after: kept\n"
			writeFile(t, filepath.Join(dir, "v.yaml"), src)
			res := run(t, dir, map[string]Image{"apps:p": {Name: "n", Tag: value}})
			if len(res.Changes) != 3 || len(res.Skipped) != 0 {
				t.Fatalf("changes %v skipped %v", res.Changes, res.Skipped)
			}
			out, _ := os.ReadFile(filepath.Join(dir, "v.yaml"))
			if bytes.Count(out, []byte("\n")) != strings.Count(src, "\n") {
				t.Fatalf("line count changed:\n%s", out)
			}
			var got struct {
				A map[string]any `yaml:"a"`
			}
			if err := yaml.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not YAML: %v\n%s", err, out)
			}
			flow, _ := got.A["flow"].(map[string]any)
			if got.A["plain"] != value || got.A["single"] != value || flow["tag"] != value || got.A["after"] != "kept" || len(got.A) != 4 {
				t.Fatalf("values %#v, want %q each:\n%s", got.A, value, out)
			}
		})
	}
}

func TestUnrewritableMarkedValues(t *testing.T) {
	dir := t.TempDir()
	src := "anchored: &img a:1 # {\"$imagepolicy\": \"apps:web\"}\n" +
		"block: | # {\"$imagepolicy\": \"apps:web\"}\n  a:1\n" +
		"tagged: !!str a:1 # {\"$imagepolicy\": \"apps:web\"}\n" +
		"multi: \"a:1\n  b\" # {\"$imagepolicy\": \"apps:web\"}\n" +
		"# {\"$imagepolicy\": \"apps:web\"}\nmapping:\n  image: a:1\n" +
		"notjson: a:1 # {$imagepolicy: apps:web}\n"
	writeFile(t, filepath.Join(dir, "v.yaml"), src)
	res := run(t, dir, testPolicies())
	if len(res.Changes) != 0 || len(res.Files) != 0 {
		t.Fatalf("changed %v", res.Changes)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "v.yaml"))
	if string(out) != src {
		t.Fatalf("file changed:\n%s", out)
	}
	reasons := map[int]string{}
	for _, s := range res.Skipped {
		reasons[s.Line] = s.Reason
	}
	want := map[int]string{
		1:  "cannot be rewritten in place",
		2:  "cannot be rewritten in place",
		4:  "cannot be rewritten in place",
		5:  "cannot be rewritten in place",
		8:  "is on a value that is not a scalar",
		10: "is not valid (not JSON)",
	}
	for line, w := range want {
		if !strings.Contains(reasons[line], w) {
			t.Errorf("line %d: reason %q, want %q (all: %v)", line, reasons[line], w, res.Skipped)
		}
	}
}

func TestLargeFileSkipped(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("# padding\n", 200) + "image: a:1 # {\"$imagepolicy\": \"apps:web\"}\n"
	writeFile(t, filepath.Join(dir, "big.yaml"), big)
	writeFile(t, filepath.Join(dir, "big-unmarked.yaml"), strings.Repeat("# padding\n", 300))
	res, err := Apply(context.Background(), Options{Root: dir, Policies: testPolicies(), MaxFileSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].File != "big.yaml" ||
		!strings.Contains(res.Skipped[0].Reason, "larger than the limit of 1024 bytes") {
		t.Fatalf("skipped %v", res.Skipped)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "big.yaml")); string(b) != big {
		t.Fatal("an oversized file was written")
	}
}

func TestModeKept(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"private.yaml": 0o600, "exec.yml": 0o755} {
		p := filepath.Join(dir, name)
		writeFile(t, p, "image: a:1 # {\"$imagepolicy\": \"apps:web\"}\n")
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	res := run(t, dir, testPolicies())
	if len(res.Files) != 2 {
		t.Fatalf("files %v", res.Files)
	}
	for name, mode := range map[string]os.FileMode{"private.yaml": 0o600, "exec.yml": 0o755} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v", name, info.Mode().Perm(), err, mode)
		}
	}
}

func TestOnlyYAMLFilesParsed(t *testing.T) {
	dir := t.TempDir()
	marked := "image: a:1 # {\"$imagepolicy\": \"apps:web\"}\n"
	for _, name := range []string{"values.json", "Dockerfile", "notes.md", ".git/config.yaml"} {
		writeFile(t, filepath.Join(dir, name), marked)
	}
	res := run(t, dir, testPolicies())
	if len(res.Files)+len(res.Changes)+len(res.Skipped)+len(res.Missing) != 0 {
		t.Fatalf("result %+v, want nothing", res)
	}
}

func TestCancelled(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yaml"), "image: a:1 # {\"$imagepolicy\": \"apps:web\"}\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Apply(ctx, Options{Root: dir, Policies: testPolicies()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestConcurrentRuns runs many automations at once (run with -race): no
// state is shared, so each gets the same result.
func TestConcurrentRuns(t *testing.T) {
	const n = 8
	var wg sync.WaitGroup
	results := make([]string, n)
	dirs := make([]string, n)
	for i := range n {
		dirs[i] = t.TempDir()
		copyTree(t, filepath.Join("testdata", "line-comment", "in"), dirs[i])
		copyTree(t, filepath.Join("testdata", "multidoc", "in"), dirs[i])
	}
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Apply(context.Background(), Options{Root: dirs[i], Policies: testPolicies()})
			errs[i] = err
			results[i] = fmt.Sprint(res)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("run %d: %v\n%s\nwant\n%s", i, errs[i], results[i], results[0])
		}
	}
	if !strings.Contains(results[0], "all.yaml deploy.yaml") {
		t.Fatalf("result %s", results[0])
	}
}

// TestColumnsCountCharacters puts multi-byte characters before marked
// values: the parser counts characters, the rewrite must find bytes.
func TestColumnsCountCharacters(t *testing.T) {
	dir := t.TempDir()
	src := "\ufeffимя: x\n" +
		"образ: a:1 # {\"$imagepolicy\": \"apps:web:tag\"}\n" +
		"список: [ 'ü', \"ö:1\", # {\"$imagepolicy\": \"apps:web:tag\"}\n  ]\n"
	writeFile(t, filepath.Join(dir, "u.yaml"), src)
	res := run(t, dir, testPolicies())
	want := "\ufeffимя: x\n" +
		"образ: 2.0.1 # {\"$imagepolicy\": \"apps:web:tag\"}\n" +
		"список: [ 'ü', \"2.0.1\", # {\"$imagepolicy\": \"apps:web:tag\"}\n  ]\n"
	out, _ := os.ReadFile(filepath.Join(dir, "u.yaml"))
	if string(out) != want || len(res.Changes) != 2 {
		t.Fatalf("got %q (%+v), want %q", out, res, want)
	}
}

func TestReportsBounded(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range MaxReports + 50 {
		fmt.Fprintf(&b, "k%d: a:1 # {\"$imagepolicy\": \"apps:gone%d\"}\n", i, i)
	}
	b.WriteString("last: a:1 # {\"$imagepolicy\": \"apps:web:tag\"}\n")
	writeFile(t, filepath.Join(dir, "many.yaml"), b.String())
	res := run(t, dir, testPolicies())
	if len(res.Missing) != MaxReports || res.Unreported != 50 {
		t.Fatalf("missing %d, unreported %d", len(res.Missing), res.Unreported)
	}
	if len(res.Changes) != 1 || res.Changes[0].NewValue != "2.0.1" {
		t.Fatalf("the known policy was not applied: %v", res.Changes)
	}
}
