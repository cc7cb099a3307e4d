package imageupdate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSetters runs the setters on random YAML with markers: no panic, an
// input without markers or without a change keeps its bytes, a changed
// input differs only on its marked lines and still parses, and a second
// run changes nothing. Apply's file handling around this is covered by
// TestGolden and the tests of apply_test.go.
func FuzzSetters(f *testing.F) {
	for _, dir := range []string{"testdata/*/in/*.yaml", "testdata/*/in/*/*.yaml", "testdata/*/in/*/*/*.yaml"} {
		for _, b := range globFiles(f, dir) {
			f.Add(b, "2.0.1")
		}
	}
	f.Add([]byte("a: b # {\"$imagepolicy\": \"apps:web\"}\n"), "1.0 #x")
	f.Add([]byte("- x # {\"$imagepolicy\": \"apps:web:tag\"}\n- [y, {z: w # {\"$imagepolicy\": \"apps:web:name\"}\n}]\n"), "v1")
	f.Add([]byte("k: plain, no markers: here\n"), "1")
	f.Fuzz(func(t *testing.T, content []byte, tag string) {
		policies := map[string]Image{
			"apps:web":                 {Name: "registry.example.com/team/web", Tag: tag, Digest: webDigest},
			"flux-system:payments-api": {Name: "ghcr.io/my-org/payments-api", Tag: tag},
		}
		orig := bytes.Clone(content)
		var res Result
		out, changed := updateBytes("f.yaml", content, policies, &res)
		if !bytes.Equal(content, orig) {
			t.Fatal("the input was modified in place")
		}
		if !bytes.Contains(content, []byte(Token)) {
			if changed || !bytes.Equal(out, content) || len(res.Changes)+len(res.Skipped)+len(res.Missing) != 0 {
				t.Fatalf("an unmarked input was changed or reported: %+v", res)
			}
			return
		}
		if !changed {
			if !bytes.Equal(out, content) || len(res.Changes) != 0 {
				t.Fatalf("no change reported but the bytes differ: %+v", res)
			}
			return
		}
		res.Files = []string{"f.yaml"}
		checkOnlyMarkedLines(t, map[string][]byte{"f.yaml": content}, map[string][]byte{"f.yaml": out}, res)
		if _, err := parseDocuments(out); err != nil {
			t.Fatalf("the rewritten input does not parse: %v\n%q", err, out)
		}
		var again Result
		if _, changed := updateBytes("f.yaml", out, policies, &again); changed {
			t.Fatalf("a second run changed %+v\n%q", again.Changes, out)
		}
	})
}

func globFiles(f *testing.F, pattern string) [][]byte {
	f.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
