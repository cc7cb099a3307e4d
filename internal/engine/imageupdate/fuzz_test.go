package imageupdate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSetters runs the setters on random YAML with markers: no panic, a
// file without a change keeps its bytes, a changed file differs only on
// its marked lines, still parses, and a second run changes nothing.
func FuzzSetters(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/in/*.yaml")
	more, _ := filepath.Glob("testdata/*/in/*/*.yaml")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "2.0.1")
		}
	}
	f.Add([]byte("a: b # {\"$imagepolicy\": \"apps:web\"}\n"), "1.0 #x")
	f.Add([]byte("- x # {\"$imagepolicy\": \"apps:web:tag\"}\n- [y, {z: w # {\"$imagepolicy\": \"apps:web:name\"}\n}]\n"), "v1")
	f.Add([]byte("k: plain, no markers: here\n"), "1")
	f.Fuzz(func(t *testing.T, content []byte, tag string) {
		dir := t.TempDir()
		name := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
		policies := map[string]Image{
			"apps:web":                 {Name: "registry.example.com/team/web", Tag: tag, Digest: webDigest},
			"flux-system:payments-api": {Name: "ghcr.io/my-org/payments-api", Tag: tag},
		}
		before := map[string][]byte{"f.yaml": content}
		res, err := Apply(context.Background(), Options{Root: dir, Policies: policies})
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		out, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(content, []byte(Token)) {
			if !bytes.Equal(out, content) || len(res.Changes)+len(res.Skipped)+len(res.Missing)+len(res.Files) != 0 {
				t.Fatalf("an unmarked file was touched or reported: %+v", res)
			}
			return
		}
		checkOnlyMarkedLines(t, before, map[string][]byte{"f.yaml": out}, res)
		if len(res.Files) == 0 {
			return
		}
		if _, err := parseDocuments(out); err != nil {
			t.Fatalf("the rewritten file does not parse: %v\n%q", err, out)
		}
		again, err := Apply(context.Background(), Options{Root: dir, Policies: policies})
		if err != nil || len(again.Changes) != 0 {
			t.Fatalf("a second run changed %+v (%v)\n%q", again.Changes, err, out)
		}
	})
}
