package imageupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the out trees and result.json of testdata/")

const webDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testPolicies are the latest images the golden cases are updated to.
func testPolicies() map[string]Image {
	return map[string]Image{
		"flux-system:payments-api": {Name: "ghcr.io/my-org/payments-api", Tag: "1.3.0"},
		"apps:web":                 {Name: "registry.example.com/team/web", Tag: "2.0.1", Digest: webDigest},
		"apps:worker":              {Name: "docker.io/library/worker", Tag: "20260101.1"},
	}
}

// TestGolden copies testdata/<case>/in to a temporary checkout, runs the
// setters and compares the tree with testdata/<case>/out and the Result
// with testdata/<case>/result.json.
func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		path  string
		setup func(t *testing.T, dir string)
	}{
		{name: "example-05"},
		{name: "line-comment"},
		{name: "head-comment"},
		{name: "flow"},
		{name: "quoted"},
		{name: "parts"},
		{name: "multidoc"},
		{name: "crlf"},
		{name: "helm-template"},
		{name: "missing-policy"},
		{name: "invalid-yaml"},
		{name: "update-path", path: "./apps/"},
		{name: "symlink-out", setup: func(t *testing.T, dir string) {
			outside := filepath.Join(t.TempDir(), "secret.yaml")
			writeFile(t, outside, "image: x:1 # {\"$imagepolicy\": \"apps:web\"}\n")
			link(t, outside, filepath.Join(dir, "apps", "escape.yaml"))
			link(t, "../../..", filepath.Join(dir, "apps", "up"))
			link(t, "app.yaml", filepath.Join(dir, "apps", "inside.yaml"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := filepath.Join("testdata", tc.name)
			dir := t.TempDir()
			copyTree(t, filepath.Join(base, "in"), dir)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			before := readTree(t, dir)
			res, err := Apply(context.Background(), Options{Root: dir, Path: tc.path, Policies: testPolicies()})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			after := readTree(t, dir)
			checkOnlyMarkedLines(t, before, after, res)
			got := resultJSON(t, res)
			if *update {
				if err := os.RemoveAll(filepath.Join(base, "out")); err != nil {
					t.Fatal(err)
				}
				copyTree(t, dir, filepath.Join(base, "out"))
				writeFile(t, filepath.Join(base, "result.json"), string(got))
				return
			}
			want := readTree(t, filepath.Join(base, "out"))
			compareTrees(t, want, after)
			wantRes, err := os.ReadFile(filepath.Join(base, "result.json"))
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(wantRes, got) {
				t.Errorf("result differs from %s:\n got: %s\nwant: %s", filepath.Join(base, "result.json"), got, wantRes)
			}
			// A second run finds nothing left to change.
			again, err := Apply(context.Background(), Options{Root: dir, Path: tc.path, Policies: testPolicies()})
			if err != nil || len(again.Changes) != 0 || len(again.Files) != 0 {
				t.Errorf("second run changed %v (err %v)", again.Changes, err)
			}
		})
	}
}

// checkOnlyMarkedLines asserts that unchanged files keep their bytes and
// a changed file differs only on the lines of its recorded changes.
func checkOnlyMarkedLines(t *testing.T, before, after map[string][]byte, res Result) {
	t.Helper()
	changed := map[string]bool{}
	for _, f := range res.Files {
		changed[f] = true
	}
	marked := map[string]map[int]bool{}
	for _, c := range res.Changes {
		if marked[c.File] == nil {
			marked[c.File] = map[int]bool{}
		}
		marked[c.File][c.Line] = true
	}
	for name, old := range before {
		now := after[name]
		if !changed[name] {
			if !bytes.Equal(old, now) {
				t.Errorf("%s changed but is not in Result.Files", name)
			}
			continue
		}
		oldLines, newLines := bytes.SplitAfter(old, []byte("\n")), bytes.SplitAfter(now, []byte("\n"))
		if len(oldLines) != len(newLines) {
			t.Errorf("%s: line count changed from %d to %d", name, len(oldLines), len(newLines))
			continue
		}
		for i := range oldLines {
			if !bytes.Equal(oldLines[i], newLines[i]) && !marked[name][i+1] {
				t.Errorf("%s: line %d changed without a recorded change: %q -> %q", name, i+1, oldLines[i], newLines[i])
			}
		}
	}
	if len(after) != len(before) {
		t.Errorf("the run left %d files, want %d (a temporary file left behind?)", len(after), len(before))
	}
}

// resultJSON writes a Result as the golden result.json holds it.
func resultJSON(t *testing.T, res Result) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compareTrees(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if !bytes.Equal(w, g) {
			t.Errorf("%s differs from the golden out tree:\n got: %q\nwant: %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && !bytes.HasPrefix(got[name], []byte("<link> ")) {
			t.Errorf("unexpected file %s", name)
		}
	}
}

// readTree reads every regular file under dir; a symbolic link is
// recorded by its target.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[rel] = []byte("<link> " + target)
			return err
		}
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // links are made by each case's setup
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
