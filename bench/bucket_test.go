package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

// W9 runs only when named, at the 20 000 objects unless -n says
// otherwise.
func TestW9Sizes(t *testing.T) {
	f, err := parseFlags([]string{"-workload", "W9"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.sizesOf("W9"); len(got) != 1 || got[0] != w9DefaultObjects || w9DefaultObjects != 20000 {
		t.Errorf("W9 sizes %v, want [20000]", got)
	}
	f, err = parseFlags([]string{"-workload", "w9", "-n", "5000"}, io.Discard)
	if err != nil || len(f.sizesOf("W9")) != 1 || f.sizesOf("W9")[0] != 5000 {
		t.Errorf("W9 -n 5000: sizes %v (%v)", f.sizesOf("W9"), err)
	}
	f, _ = parseFlags(nil, io.Discard)
	for _, w := range f.workloads {
		if w == "W9" {
			t.Error("W9 runs by default")
		}
	}
}

// W9's keys spread 100 objects a directory, in order, and are unique.
func TestW9Keys(t *testing.T) {
	if got := w9Key(0); got != "apps/0000/cm-00000.yaml" {
		t.Errorf("key 0 = %q", got)
	}
	if got := w9Key(19999); got != "apps/0199/cm-19999.yaml" {
		t.Errorf("key 19999 = %q", got)
	}
	seen := map[string]bool{}
	for i := range 1000 {
		seen[w9Key(i)] = true
	}
	if len(seen) != 1000 {
		t.Errorf("%d distinct keys of 1000", len(seen))
	}
	if !strings.Contains(string(w9Body(7)), "cm-00007") {
		t.Errorf("body 7 = %q", w9Body(7))
	}
}

func TestParseFetchedFiles(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want int
		ok   bool
	}{
		{"stored artifact with 20000 fetched files from 'fleet' bucket", 20000, true},
		{"stored artifact with 0 fetched files from 'empty' bucket", 0, true},
		{"stored artifact for revision 'sha256:abc'", 0, false},
		{"", 0, false},
	} {
		got, ok := parseFetchedFiles(tc.msg)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseFetchedFiles(%q) = %d, %v; want %d, %v", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
}

// The refusal must name both numbers, whole, and the flag to raise.
func TestCheckRefusal(t *testing.T) {
	good := `endpoint 127.0.0.1:1, bucket "fleet": 20001 objects exceed the limit of 20000 files; narrow the prefix, exclude objects with spec.ignore or raise --artifact-max-files`
	if err := checkRefusal(good, 20001, 20000); err != nil {
		t.Errorf("good message refused: %v", err)
	}
	for name, msg := range map[string]string{
		"no flag":     `20001 objects exceed the limit of 20000 files`,
		"no limit":    `20001 objects exceed the limit; raise --artifact-max-files`,
		"no count":    `too many objects for the limit of 20000 files; raise --artifact-max-files`,
		"prefix only": `200010 objects exceed the limit of 20000 files; raise --artifact-max-files`,
	} {
		if err := checkRefusal(msg, 20001, 20000); err == nil {
			t.Errorf("%s: %q accepted", name, msg)
		}
	}
}

// countTarFiles counts regular files only, and reports a broken archive.
func TestCountTarFiles(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	write := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	write(&tar.Header{Name: "apps/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	write(&tar.Header{Name: "apps/a.yaml", Typeflag: tar.TypeReg, Mode: 0o644}, "a")
	write(&tar.Header{Name: "apps/b.yaml", Typeflag: tar.TypeReg, Mode: 0o644}, "bb")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if n, err := countTarFiles(bytes.NewReader(data)); err != nil || n != 2 {
		t.Errorf("countTarFiles = %d, %v; want 2", n, err)
	}
	if _, err := countTarFiles(bytes.NewReader(data[:len(data)/2])); err == nil {
		t.Error("a truncated archive was counted")
	}
}

// The table says what W9's columns mean and prints no Kustomizations per
// second for it.
func TestFormatTableW9(t *testing.T) {
	out := formatTable([]row{{Workload: "W9", Controller: "driftless", N: 20000, Phase: "fetch", WallSeconds: 10, ObjectsPerSecond: 2000, Note: "revision sha256:x"}})
	for _, want := range []string{"W9: N is the number of objects", "W9 N=20000 fetch: revision sha256:x", "–"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
