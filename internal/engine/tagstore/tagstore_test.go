package tagstore_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/driftless/driftless/internal/engine/tagstore"
)

func newStore(t *testing.T, root string, cache int) *tagstore.Store {
	t.Helper()
	s, err := tagstore.New(root, cache)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPutGetSortedAndStable(t *testing.T) {
	s := newStore(t, t.TempDir(), 1<<20)
	rev, err := s.Put("apps", "podinfo", []string{"1.2.0", "1.10.0", "latest", "1.2.0", ""})
	if err != nil {
		t.Fatal(err)
	}
	if again := tagstore.Revision([]string{"latest", "1.10.0", "1.2.0"}); again != rev {
		t.Errorf("the revision depends on order or duplicates: %s, then %s", rev, again)
	}
	if other := tagstore.Revision([]string{"1.2.0"}); other == rev {
		t.Error("two tag sets share a revision")
	}
	got, err := s.Get("apps", "podinfo", rev)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.10.0", "1.2.0", "latest"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v; want %v (sorted, de-duplicated, no empty tag)", got, want)
	}
}

func TestMissingOrOtherRevisionMeansRescan(t *testing.T) {
	s := newStore(t, t.TempDir(), 1<<20)
	if _, err := s.Get("apps", "never", "abc"); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("a repository never stored: %v; want ErrNotStored", err)
	}
	rev, err := s.Put("apps", "podinfo", []string{"1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("apps", "podinfo", []string{"1.0.0", "1.1.0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("apps", "podinfo", rev); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("an older revision: %v; want ErrNotStored", err)
	}
	if _, err := s.Get("apps", "podinfo", ""); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("no revision: %v; want ErrNotStored", err)
	}
}

func TestSurvivesRestartAndCorruptionMeansRescan(t *testing.T) {
	root := t.TempDir()
	rev, err := newStore(t, root, 0).Put("apps", "podinfo", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	restarted := newStore(t, root, 0)
	if got, err := restarted.Get("apps", "podinfo", rev); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after a restart: %v, %v", got, err)
	}
	file := filepath.Join(root, "imagerepository", "apps", "podinfo", "tags")
	for name, data := range map[string][]byte{
		"cut short":    []byte("a\n"),
		"changed":      []byte("a\nc\n"),
		"broken gzip":  {0x1f, 0x8b, 0x08, 0x00, 0x01},
		"empty":        {},
		"binary noise": {0x00, 0xff, 0x10},
	} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := restarted.Get("apps", "podinfo", rev); !errors.Is(err, tagstore.ErrNotStored) {
			t.Errorf("%s file: %v; want ErrNotStored", name, err)
		}
	}
}

func TestLargeListsAreCompressed(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root, 0)
	small, large := []string{"1.0.0"}, make([]string, 0, 20000)
	for i := range 20000 {
		large = append(large, fmt.Sprintf("main-%08d-abcdef", i))
	}
	for name, tags := range map[string][]string{"small": small, "large": large} {
		rev, err := s.Put("apps", name, tags)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(root, "imagerepository", "apps", name, "tags"))
		if err != nil {
			t.Fatal(err)
		}
		gzipped := len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b
		if gzipped != (name == "large") {
			t.Errorf("%s list: gzip %v (%d bytes on disk)", name, gzipped, len(data))
		}
		got, err := s.Get("apps", name, rev)
		if err != nil || len(got) != len(tags) {
			t.Errorf("%s list read back: %d tags, %v; want %d", name, len(got), err, len(tags))
		}
	}
}

func TestKeyedByObjectNotImage(t *testing.T) {
	s := newStore(t, t.TempDir(), 1<<20)
	revA, _ := s.Put("team-a", "app", []string{"1.0.0", "private-1"})
	revB, _ := s.Put("team-b", "app", []string{"1.0.0"})
	a, errA := s.Get("team-a", "app", revA)
	b, errB := s.Get("team-b", "app", revB)
	if errA != nil || errB != nil || len(a) != 2 || len(b) != 1 {
		t.Errorf("team-a %v (%v), team-b %v (%v): each repository keeps its own list", a, errA, b, errB)
	}
	if _, err := s.Get("team-b", "app", revA); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("team-b read with team-a's revision: %v; want ErrNotStored", err)
	}
}

func TestDelete(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root, 1<<20)
	rev, _ := s.Put("apps", "podinfo", []string{"1.0.0"})
	if err := s.Delete("apps", "podinfo"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("apps", "podinfo", rev); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("after Delete: %v; want ErrNotStored (also from the cache)", err)
	}
	if _, err := os.Stat(filepath.Join(root, "imagerepository", "apps")); !os.IsNotExist(err) {
		t.Errorf("the namespace directory outlives its last repository: %v", err)
	}
	if err := s.Delete("apps", "podinfo"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestNamesCannotLeaveTheStore(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "store")
	s := newStore(t, root, 1<<20)
	for _, tc := range [][2]string{{"..", "x"}, {"apps", "../../escape"}, {"apps", "a/b"}, {"", "x"}, {"apps", ""}, {"Apps", "x"}} {
		if _, err := s.Put(tc[0], tc[1], []string{"1.0.0"}); err == nil {
			t.Errorf("Put(%q, %q) accepted", tc[0], tc[1])
		}
		if err := s.Delete(tc[0], tc[1]); err == nil {
			t.Errorf("Delete(%q, %q) accepted", tc[0], tc[1])
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("something was written beside the store: %v", entries)
	}
}

func TestCacheIsBounded(t *testing.T) {
	const limit = 4 << 10
	s := newStore(t, t.TempDir(), limit)
	revs := map[string]string{}
	for i := range 50 {
		name := fmt.Sprintf("repo-%d", i)
		tags := make([]string, 20)
		for j := range tags {
			tags[j] = fmt.Sprintf("%s-tag-%02d", name, j)
		}
		rev, err := s.Put("apps", name, tags)
		if err != nil {
			t.Fatal(err)
		}
		revs[name] = rev
		if got := s.CachedBytes(); got > limit {
			t.Fatalf("cache holds %d bytes after %d lists; limit %d", got, i+1, limit)
		}
	}
	if s.CachedBytes() == 0 {
		t.Error("nothing cached although lists fit")
	}
	// Evicted lists still read from their files.
	for name, rev := range revs {
		if _, err := s.Get("apps", name, rev); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNoTemporaryFilesLeft(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root, 0)
	for range 3 {
		if _, err := s.Put("apps", "podinfo", []string{"1.0.0"}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "imagerepository", "apps", "podinfo"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "tags" {
		t.Errorf("the repository's directory holds %v; want only tags", entries)
	}
}

func TestCacheNoticesADeletedOrReplacedFile(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root, 1<<20)
	rev, err := s.Put("apps", "podinfo", []string{"1.0.0", "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "imagerepository", "apps", "podinfo", "tags")
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("apps", "podinfo", rev); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("a deleted file, still in the cache: %v; want ErrNotStored", err)
	}
	if _, err := s.Put("apps", "podinfo", []string{"1.0.0", "1.1.0"}); err != nil {
		t.Fatal(err)
	}
	// Replaced behind the store's back by another list (same length).
	if err := os.WriteFile(file, []byte("1.0.0\n1.9.9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("apps", "podinfo", rev); !errors.Is(err, tagstore.ErrNotStored) {
		t.Errorf("a replaced file, still in the cache: %v; want ErrNotStored", err)
	}
}
