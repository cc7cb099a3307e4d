package artifact

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

func TestGarbageCollect(t *testing.T) {
	tests := []struct {
		name     string
		records  int
		ttl      time.Duration
		files    map[string]time.Duration // name -> age
		links    map[string]string        // link -> target
		dirs     []string
		keep     string
		deleted  []string
		remained []string
	}{
		{
			name:     "defaults: expired files go, two remain",
			files:    map[string]time.Duration{"a": 10 * time.Minute, "b": 5 * time.Minute, "c": 30 * time.Second, "d": 0},
			keep:     "d",
			deleted:  []string{"a", "b"},
			remained: []string{"c", "d"},
		},
		{
			name:     "the current artifact stays even when expired",
			files:    map[string]time.Duration{"a": 10 * time.Minute, "b": 5 * time.Minute},
			keep:     "a",
			deleted:  []string{"b"},
			remained: []string{"a"},
		},
		{
			name:     "records trim unexpired files, oldest first",
			records:  2,
			ttl:      time.Hour,
			files:    map[string]time.Duration{"a": 3 * time.Minute, "b": 2 * time.Minute, "c": time.Minute, "d": 0},
			keep:     "d",
			deleted:  []string{"a", "b"},
			remained: []string{"c", "d"},
		},
		{
			name:     "the current artifact counts but is never trimmed",
			records:  2,
			ttl:      time.Hour,
			files:    map[string]time.Duration{"cur": 3 * time.Minute, "b": 2 * time.Minute, "c": time.Minute},
			keep:     "cur",
			deleted:  []string{"b"},
			remained: []string{"c", "cur"},
		},
		{
			name:     "fewer files than records and none expired",
			records:  5,
			ttl:      time.Minute,
			files:    map[string]time.Duration{"a": 59 * time.Second, "b": time.Minute, "c": 0},
			keep:     "c",
			remained: []string{"a", "b", "c"},
		},
		{
			name:     "link targets are kept",
			records:  1,
			ttl:      time.Minute,
			files:    map[string]time.Duration{"old": 10 * time.Minute, "cur": 0, "other": 5 * time.Minute},
			links:    map[string]string{"latest.tar.gz": "old"},
			keep:     "cur",
			deleted:  []string{"other"},
			remained: []string{"cur", "latest.tar.gz", "old"},
		},
		{
			name:     "lock, directories kept; stale temporary files deleted",
			files:    map[string]time.Duration{".lock": time.Hour, ".tmp-a.tar.gz-1": time.Hour, ".tmp-b.tar.gz-2": 0, "cur": 0},
			dirs:     []string{"sub"},
			keep:     "cur",
			deleted:  []string{".tmp-a.tar.gz-1"},
			remained: []string{".lock", ".tmp-b.tar.gz-2", "cur", "sub"},
		},
		{
			name:     "keep given as the artifact path",
			files:    map[string]time.Duration{"a": time.Hour, "b": time.Hour},
			keep:     "gitrepository/ns/n/a",
			deleted:  []string{"b"},
			remained: []string{"a"},
		},
		{
			name:     "no current artifact",
			records:  1,
			ttl:      time.Hour,
			files:    map[string]time.Duration{"a": 2 * time.Minute, "b": time.Minute},
			deleted:  []string{"a"},
			remained: []string{"b"},
		},
		{
			name:     "equal times are ordered by name",
			records:  1,
			ttl:      time.Hour,
			files:    map[string]time.Duration{"x": time.Minute, "y": time.Minute},
			deleted:  []string{"x"},
			remained: []string{"y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStorage(t, func(o *Options) { o.RetentionRecords = tt.records; o.RetentionTTL = tt.ttl })
			dir := filepath.Join(s.Root(), "gitrepository", "ns", "n")
			if err := os.MkdirAll(dir, 0o750); err != nil {
				t.Fatal(err)
			}
			for name, age := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(name), 0o600); err != nil {
					t.Fatal(err)
				}
				mtime := fixedNow.Add(-age)
				if err := os.Chtimes(p, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
			for link, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range tt.dirs {
				if err := os.Mkdir(filepath.Join(dir, d), 0o750); err != nil {
					t.Fatal(err)
				}
			}

			deleted, err := s.GarbageCollect("GitRepository", "ns", "n", tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			var wantDeleted []string
			for _, d := range tt.deleted {
				wantDeleted = append(wantDeleted, "gitrepository/ns/n/"+d)
			}
			sort.Strings(deleted)
			if !reflect.DeepEqual(deleted, wantDeleted) {
				t.Errorf("deleted %q, want %q", deleted, wantDeleted)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var remained []string
			for _, e := range entries {
				remained = append(remained, e.Name())
			}
			if !reflect.DeepEqual(remained, tt.remained) {
				t.Errorf("remained %q, want %q", remained, tt.remained)
			}
		})
	}
}

func TestGarbageCollectEdges(t *testing.T) {
	s := newTestStorage(t, nil)
	deleted, err := s.GarbageCollect("GitRepository", "ns", "never-stored", "x.tar.gz")
	if err != nil || deleted != nil {
		t.Errorf("missing directory: %q, %v", deleted, err)
	}
	_, err = s.GarbageCollect("GitRepository", "ns", "n", "gitrepository/ns/other/x.tar.gz")
	if !errContains(err, `current artifact "gitrepository/ns/other/x.tar.gz" is not in that directory`) {
		t.Errorf("foreign keep: %v", err)
	}
	_, err = s.GarbageCollect("GitRepository", "", "n", "")
	if !errContains(err, `invalid object namespace ""`) {
		t.Errorf("empty namespace: %v", err)
	}
}
