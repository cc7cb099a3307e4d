package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fullFile is a temporary file whose writes go to /dev/full, the device that
// answers every write with ENOSPC: a real full disk for the writer.
type fullFile struct {
	*os.File // /dev/full
	name     string
}

func (f fullFile) Name() string { return f.name }

func TestArchiveDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs /dev/full (Linux): %v", err)
	}
	s := newTestStorage(t, nil)
	var created string
	s.createTemp = func(dir, pattern string) (tempFile, error) {
		real, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		_ = real.Close()
		created = real.Name()
		dev, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return fullFile{File: dev, name: real.Name()}, nil
	}
	src := t.TempDir()
	writeTree(t, src, map[string]file{"data": {content: strings.Repeat("0123456789", 100000)}})
	rel := "gitrepository/ns/name/a.tar.gz"
	_, err := s.Archive(src, rel, nil)
	if !errContains(err, "storage is full (no space left on device)") {
		t.Fatalf("Archive: %v, want a full-storage error", err)
	}
	if !strings.Contains(err.Error(), rel) {
		t.Errorf("error %q does not name the artifact", err)
	}
	if created == "" {
		t.Fatal("the temporary file was never created")
	}
	if _, err := os.Lstat(created); !os.IsNotExist(err) {
		t.Errorf("temporary file %s left behind", created)
	}
	assertNoFiles(t, s.Root())

	_, err = s.Copy(strings.NewReader("index"), "helmrepository/ns/name/index.yaml")
	if !errContains(err, "storage is full") {
		t.Errorf("Copy: %v, want a full-storage error", err)
	}
	assertNoFiles(t, s.Root())
}

func TestArchiveReplacesAtomically(t *testing.T) {
	s := newTestStorage(t, nil)
	rel := "gitrepository/ns/name/a.tar.gz"
	one, two := t.TempDir(), t.TempDir()
	writeTree(t, one, map[string]file{"v": {content: "1"}})
	writeTree(t, two, map[string]file{"v": {content: "2"}})
	a1, err := s.Archive(one, rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := s.LocalPath(rel)
	held, err := os.Open(local) // a reader of the first version
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	a2, err := s.Archive(two, rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a1.Digest == a2.Digest {
		t.Fatal("different content, same digest")
	}
	// The open reader still sees the whole first version: the file was
	// replaced by a rename, not rewritten in place.
	if d, _, err := digestReader(held, "sha256"); err != nil || d != a1.Digest {
		t.Errorf("reader of the old file got %s, %v; want %s", d, err, a1.Digest)
	}
	if err := s.Verify(a2); err != nil {
		t.Errorf("Verify new: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(local))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the artifact", len(entries))
	}
}
