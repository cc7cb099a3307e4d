package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixedNow is the clock of the test storages.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestStorage(t *testing.T, mutate func(*Options)) *Storage {
	t.Helper()
	opts := Options{
		Root:    filepath.Join(t.TempDir(), "storage"),
		AdvAddr: "source-controller.flux-system.svc.cluster.local.",
		Now:     func() time.Time { return fixedNow },
	}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := NewStorage(opts)
	if err != nil {
		t.Fatalf("NewStorage: %v", err)
	}
	return s
}

// file describes a file of a test tree.
type file struct {
	content string
	mode    os.FileMode // 0: 0644
}

// writeTree creates the files under dir; a name ending in "/" is an empty
// directory.
func writeTree(t *testing.T, dir string, files map[string]file) {
	t.Helper()
	for name, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// entry is what a test reads back from an archive.
type entry struct {
	hdr     tar.Header
	content string
}

// readTarGz reads every entry of a tar.gz file, and the gzip header.
func readTarGz(t *testing.T, p string) ([]entry, gzip.Header) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var entries []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{hdr: *h, content: string(b)})
	}
	return entries, gz.Header
}

func entryNames(entries []entry) []string {
	var names []string
	for _, e := range entries {
		names = append(names, e.hdr.Name)
	}
	return names
}

func errContains(err error, want string) bool {
	return err != nil && strings.Contains(err.Error(), want)
}
