package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	name     string
	typ      byte
	content  string
	size     int64 // declared size when content is empty and size > 0
	linkname string
	mode     int64
	pax      map[string]string
}

// makeTarGz builds a tar.gz from entries, as written (no cleaning).
func makeTarGz(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.content))
		if e.size > 0 {
			size = e.size
		}
		if typ != tar.TypeReg {
			size = 0
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Typeflag: typ, Name: e.name, Linkname: e.linkname, Size: size, Mode: mode, PAXRecords: e.pax}
		if e.pax != nil {
			h.Format = tar.FormatPAX
		}
		if typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: typ, PAXRecords: e.pax}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.content != "" {
			if _, err := tw.Write([]byte(e.content)); err != nil {
				t.Fatal(err)
			}
		} else if size > 0 {
			if _, err := tw.Write(make([]byte, size)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listTree returns "name" for files and "name/" for directories under dir,
// and fails on anything else (a link, a device).
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			names = append(names, filepath.ToSlash(rel)+"/")
		case d.Type().IsRegular():
			names = append(names, filepath.ToSlash(rel))
		default:
			t.Errorf("%s: unexpected type %v", rel, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestUntar(t *testing.T) {
	data := makeTarGz(t, []tarEntry{
		{name: ".", typ: tar.TypeDir},
		{name: "./README.md", content: "hello"},
		{name: "deploy/", typ: tar.TypeDir},
		{name: "deploy/app.yaml", content: "app"},
		{name: "implicit/parent/file", content: "f"},
		{name: "bin/run.sh", content: "#!/bin/sh", mode: 0o755},
		{name: "x/../cleaned", content: "c"},
		{name: "global", typ: tar.TypeXGlobalHeader, pax: map[string]string{"comment": "git archive"}},
	})
	dir := filepath.Join(t.TempDir(), "out")
	if err := Untar(bytes.NewReader(data), dir, UntarOptions{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(listTree(t, dir), ",")
	want := "README.md,bin/,bin/run.sh,cleaned,deploy/,deploy/app.yaml,implicit/,implicit/parent/,implicit/parent/file"
	if got != want {
		t.Errorf("tree = %s\nwant   %s", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "deploy/app.yaml")); string(b) != "app" {
		t.Errorf("content = %q", b)
	}
	if info, _ := os.Stat(filepath.Join(dir, "bin/run.sh")); info.Mode().Perm() != 0o700 {
		t.Errorf("executable mode = %v", info.Mode())
	}
	if info, _ := os.Stat(filepath.Join(dir, "README.md")); info.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v", info.Mode())
	}
}

func TestUntarRoundTrip(t *testing.T) {
	s := newTestStorage(t, nil)
	src := t.TempDir()
	goldenTree(t, src, 0o644, 0o755, fixedNow)
	a, err := s.Archive(src, "gitrepository/ns/n/a.tar.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := s.LocalPath(a.Path)
	f, err := os.Open(local)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	if err := Untar(f, dir, UntarOptions{MaxFiles: 100, MaxSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(listTree(t, dir), ","), strings.Join(listTree(t, src), ","); got != want {
		t.Errorf("round trip tree = %s\nwant %s", got, want)
	}
}

func TestUntarRejects(t *testing.T) {
	big := strings.Repeat("p", 600<<10)
	tests := []struct {
		name    string
		entries []tarEntry
		raw     []byte
		opts    UntarOptions
		want    string
	}{
		{name: "parent traversal", entries: []tarEntry{{name: "../evil", content: "x"}},
			want: `archive entry "../evil": path escapes the target directory`},
		{name: "nested traversal", entries: []tarEntry{{name: "a/../../evil", content: "x"}},
			want: `archive entry "a/../../evil": path escapes the target directory`},
		{name: "absolute path", entries: []tarEntry{{name: "/tmp/evil", content: "x"}},
			want: `archive entry "/tmp/evil": absolute paths are not allowed`},
		{name: "symbolic link", entries: []tarEntry{{name: "link", typ: tar.TypeSymlink, linkname: "/etc/passwd"}},
			want: `archive entry "link": links are not allowed (link to "/etc/passwd")`},
		{name: "hard link", entries: []tarEntry{{name: "hard", typ: tar.TypeLink, linkname: "../x"}},
			want: `archive entry "hard": links are not allowed`},
		{name: "character device", entries: []tarEntry{{name: "null", typ: tar.TypeChar}},
			want: `archive entry "null": unsupported type "3"`},
		{name: "named pipe", entries: []tarEntry{{name: "fifo", typ: tar.TypeFifo}},
			want: `archive entry "fifo": unsupported type "6"`},
		{name: "empty name", entries: []tarEntry{{name: "", content: "x"}},
			want: "archive entry with an empty name"},
		{name: "too many files", opts: UntarOptions{MaxFiles: 2},
			entries: []tarEntry{{name: "a", content: "1"}, {name: "b", content: "2"}, {name: "c", content: "3"}},
			want:    `archive has more than 2 entries (at "c")`},
		{name: "tar bomb: declared size over the limit", opts: UntarOptions{MaxSize: 1 << 20},
			entries: []tarEntry{{name: "small", content: "s"}, {name: "zeros", size: 8 << 20}},
			want:    `archive entry "zeros": 8388608 bytes exceed the maximum size of 1048576 bytes`},
		{name: "gzip bomb: headers expand past the limit", opts: UntarOptions{MaxSize: 1 << 20},
			entries: []tarEntry{
				{name: "a", pax: map[string]string{"comment": big}},
				{name: "b", pax: map[string]string{"comment": big}},
				{name: "c", pax: map[string]string{"comment": big}},
			},
			want: "archive expands beyond the maximum size of 1048576 bytes"},
		{name: "not gzip", raw: []byte("plain text, not an archive"),
			want: "reading archive: not a gzip stream"},
		{name: "truncated", raw: makeTarGz(t, []tarEntry{{name: "a", content: strings.Repeat("x", 5000)}})[:60],
			want: "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.raw
			if data == nil {
				data = makeTarGz(t, tt.entries)
			}
			base := t.TempDir()
			dir := filepath.Join(base, "out")
			err := Untar(bytes.NewReader(data), dir, tt.opts)
			if !errContains(err, tt.want) {
				t.Fatalf("Untar: %v, want an error containing %q", err, tt.want)
			}
			unsafeName := strings.Contains(tt.name, "traversal") || tt.name == "absolute path" || tt.name == "empty name"
			if errors.Is(err, ErrUnsafeEntry) != unsafeName {
				t.Errorf("errors.Is(%v, ErrUnsafeEntry) = %v, want %v", err, !unsafeName, unsafeName)
			}
			assertOnlyOut(t, base)
		})
	}
}

// assertOnlyOut checks that nothing but base/out was created, and that
// base/out holds only files and directories.
func assertOnlyOut(t testing.TB, base string) {
	t.Helper()
	entries, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "out" {
			t.Errorf("created outside the target: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(base, "out")); err == nil {
		listTree(t, filepath.Join(base, "out"))
	}
}

func TestUntarSkipLinks(t *testing.T) {
	data := makeTarGz(t, []tarEntry{
		{name: "link", typ: tar.TypeSymlink, linkname: "/etc/passwd"},
		{name: "hard", typ: tar.TypeLink, linkname: "file"},
		{name: "file", content: "f"},
	})
	dir := t.TempDir()
	if err := Untar(bytes.NewReader(data), dir, UntarOptions{SkipLinks: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listTree(t, dir), ","); got != "file" {
		t.Errorf("tree = %s, want only file", got)
	}
}

func TestUntarSkipSymlinks(t *testing.T) {
	dir := t.TempDir()
	links := makeTarGz(t, []tarEntry{
		{name: "link", typ: tar.TypeSymlink, linkname: "/etc/passwd"},
		{name: "file", content: "f"},
	})
	if err := Untar(bytes.NewReader(links), dir, UntarOptions{SkipSymlinks: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listTree(t, dir), ","); got != "file" {
		t.Errorf("tree = %s, want only file", got)
	}
	hard := makeTarGz(t, []tarEntry{
		{name: "file", content: "f"},
		{name: "hard", typ: tar.TypeLink, linkname: "file"},
	})
	err := Untar(bytes.NewReader(hard), t.TempDir(), UntarOptions{SkipSymlinks: true})
	if !errContains(err, `archive entry "hard": links are not allowed`) {
		t.Fatalf("Untar: %v, want the hard link refused", err)
	}
}

func TestUntarExistingLinkOut(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	dir := filepath.Join(base, "out")
	for _, d := range []string{outside, dir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A link already in the target (left by something else) must not be a
	// way out.
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	data := makeTarGz(t, []tarEntry{{name: "link/evil", content: "x"}})
	err := Untar(bytes.NewReader(data), dir, UntarOptions{})
	if !errContains(err, `archive entry "link/evil"`) {
		t.Fatalf("Untar: %v, want an error naming link/evil", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the target: %v", entries)
	}
}

// FuzzUntar feeds arbitrary bytes to Untar: it must never panic, write
// outside the target, or create anything but files and directories.
func FuzzUntar(f *testing.F) {
	seeds := [][]tarEntry{
		{{name: "a", content: "1"}, {name: "d/", typ: tar.TypeDir}, {name: "d/b", content: "2"}},
		{{name: "../evil", content: "x"}},
		{{name: "/abs", content: "x"}},
		{{name: "link", typ: tar.TypeSymlink, linkname: "../../etc"}, {name: "link/x", content: "x"}},
		{{name: "hard", typ: tar.TypeLink, linkname: "/etc/passwd"}},
		{{name: "dev", typ: tar.TypeBlock}},
		{{name: "./x/./y/../z", content: "z"}},
		{{name: "f", content: "1"}, {name: "f/g", content: "2"}},
	}
	for _, entries := range seeds {
		f.Add(makeTarGz(f, entries))
	}
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		_ = Untar(bytes.NewReader(data), filepath.Join(base, "out"), UntarOptions{MaxSize: 1 << 20, MaxFiles: 64})
		assertOnlyOut(t, base)
	})
}
