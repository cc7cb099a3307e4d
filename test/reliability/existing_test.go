package reliability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

const modulePath = "github.com/driftless/driftless/"

// caseTest is one test of the catalogue, resolved to its package.
type caseTest struct{ pkg, name string }

func (c caseTest) top() string { top, _, _ := strings.Cut(c.name, "/"); return top }

func (c caseTest) String() string { return filepath.Base(c.pkg) + "." + c.name }

func resolve(e existing) []caseTest {
	out := make([]caseTest, 0, len(e.row.Tests))
	for _, t := range e.row.Tests {
		if pkg, name, ok := strings.Cut(t, "#"); ok {
			out = append(out, caseTest{pkg, name})
		} else {
			out = append(out, caseTest{e.pkg, t})
		}
	}
	return out
}

// TestExistingCases checks that every test the catalogue names exists in
// its package. With -update-report it also runs them all (`go test -json`)
// and reports each case's outcome.
func TestExistingCases(t *testing.T) {
	root, err := testcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogue()
	sources := map[string]string{}
	for _, e := range cat {
		for _, ct := range resolve(e) {
			src, ok := sources[ct.pkg]
			if !ok {
				src = testSources(t, filepath.Join(root, ct.pkg))
				sources[ct.pkg] = src
			}
			decl := "func " + ct.top() + "(t *testing.T)"
			if strings.HasPrefix(ct.top(), "Fuzz") {
				decl = "func " + ct.top() + "(f *testing.F)"
			}
			if !strings.Contains(src, decl) {
				t.Errorf("%s: the catalogue names %s, which %s does not declare", e.row.Case, ct, ct.pkg)
			}
		}
	}
	if !reportWanted() || t.Failed() {
		return
	}
	outcomes := runCatalogue(t, root, cat)
	for _, e := range cat {
		r := e.row
		r.Tests = nil
		var took []string
		var bad []string
		for _, ct := range resolve(e) {
			r.Tests = append(r.Tests, ct.String())
			o, ok := outcomes[ct.pkg+"\x00"+ct.name]
			switch {
			case !ok:
				bad = append(bad, ct.name+" did not run")
			case o.action != "pass":
				bad = append(bad, ct.name+" "+o.action)
			default:
				took = append(took, fmt.Sprintf("%.2fs", o.elapsed))
			}
		}
		if len(bad) > 0 {
			r.Status, r.Observed = "FAIL", strings.Join(bad, "; ")
			t.Errorf("%s: %s", r.Case, r.Observed)
		} else {
			r.Status = "PASS"
			r.Observed = "asserted: " + r.Observed + " (tests took " + strings.Join(took, ", ") + ")"
		}
		results.add(r)
	}
}

// testSources concatenates the _test.go files of dir.
func testSources(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests in %s (%v)", dir, err)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

type outcome struct {
	action  string
	elapsed float64
}

// runCatalogue runs the catalogued tests of every package at once and
// returns each (sub)test's final action by package and name.
func runCatalogue(t *testing.T, root string, cat []existing) map[string]outcome {
	t.Helper()
	pkgs, tops := map[string]bool{}, map[string]bool{}
	for _, e := range cat {
		for _, ct := range resolve(e) {
			pkgs["./"+ct.pkg] = true
			tops[ct.top()] = true
		}
	}
	args := []string{"test", "-count=1", "-json", "-timeout", "20m", "-run", "^(" + strings.Join(sorted(tops), "|") + ")$"}
	args = append(args, sorted(pkgs)...)
	began := time.Now()
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("go %s: %s (%v)", strings.Join(args, " "), time.Since(began).Round(time.Second), err)
	outcomes := map[string]outcome{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			Action, Package, Test string
			Elapsed               float64
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			outcomes[strings.TrimPrefix(ev.Package, modulePath)+"\x00"+ev.Test] = outcome{ev.Action, ev.Elapsed}
		}
	}
	if err != nil && len(outcomes) == 0 {
		t.Fatalf("go test: %v\n%s", err, stderr.String())
	}
	return outcomes
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
