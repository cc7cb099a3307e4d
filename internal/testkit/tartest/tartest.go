// Package tartest builds gzip-compressed tarballs for tests, including the
// hostile ones no archiver writes: entries that escape, links, devices, and
// large zero-filled files that compress to almost nothing.
package tartest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"sort"
	"strings"
	"testing"
)

// Entry is one entry of a test tarball.
type Entry struct {
	Name, Content, Linkname string
	// Type is the tar type flag; 0 means a regular file.
	Type byte
	// Zeros, when positive, makes a regular file of that many zero bytes
	// instead of Content.
	Zeros int64
}

// Files are the regular files of files, sorted by name.
func Files(files map[string]string) []Entry {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Entry, 0, len(names))
	for _, n := range names {
		out = append(out, Entry{Name: n, Content: files[n]})
	}
	return out
}

// TarGz builds the tar.gz of entries, in their order.
func TarGz(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Linkname, Mode: 0o644}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		var body io.Reader
		switch {
		case h.Typeflag == tar.TypeReg && e.Zeros > 0:
			h.Size, body = e.Zeros, io.LimitReader(zeros{}, e.Zeros)
		case h.Typeflag == tar.TypeReg:
			h.Size, body = int64(len(e.Content)), strings.NewReader(e.Content)
		case h.Typeflag == tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if body != nil {
			if _, err := io.Copy(tw, body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
