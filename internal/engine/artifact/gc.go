package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// GarbageCollect deletes the old artifact files of an object, as Flux does
// with --artifact-retention-records and --artifact-retention-ttl:
//
//   - the current artifact keep (its path, or its file name) and the targets
//     of the symbolic links in the directory (latest.tar.gz) are never deleted;
//   - every other file whose modification time is older than the TTL is
//     deleted;
//   - of the rest (current one included), the oldest are deleted until no
//     more than RetentionRecords remain.
//
// Lock files, symbolic links and subdirectories are left alone; temporary
// files of interrupted writes are deleted once older than the TTL. The caller
// should hold the object's lock. It returns the relative paths deleted.
func (s *Storage) GarbageCollect(kind, namespace, name, keep string) ([]string, error) {
	rel, dir, err := s.objectDir(kind, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("collecting garbage: %w", err)
	}
	keepName := ""
	if keep != "" {
		if strings.Contains(keep, "/") {
			clean, err := cleanRel(keep)
			if err != nil || path.Dir(clean) != rel {
				return nil, fmt.Errorf("collecting garbage of %s: current artifact %q is not in that directory", rel, keep)
			}
			keep = path.Base(clean)
		}
		keepName = keep
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("collecting garbage of %s: %w", rel, err)
	}

	now := s.now()
	protected := map[string]bool{keepName: keepName != ""}
	var files []gcFile
	var garbage []string
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("collecting garbage of %s: %w", rel, err)
		}
		expired := now.Sub(info.ModTime()) > s.ttl
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && !strings.Contains(target, "/") {
				protected[target] = true
			}
		case !info.Mode().IsRegular() || e.Name() == lockFileName:
		case strings.HasPrefix(e.Name(), tempPrefix):
			if expired {
				garbage = append(garbage, e.Name())
			}
		default:
			files = append(files, gcFile{name: e.Name(), mtime: info.ModTime(), expired: expired})
		}
	}
	garbage = append(garbage, selectGarbage(files, protected, s.records)...)

	var deleted []string
	var errs []error
	for _, g := range garbage {
		if err := os.Remove(filepath.Join(dir, g)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		deleted = append(deleted, rel+"/"+g)
	}
	if len(errs) > 0 {
		return deleted, fmt.Errorf("collecting garbage of %s: %w", rel, errors.Join(errs...))
	}
	return deleted, nil
}

type gcFile struct {
	name    string
	mtime   time.Time
	expired bool
}

// selectGarbage applies the TTL, then the record count, oldest first.
func selectGarbage(files []gcFile, protected map[string]bool, records int) []string {
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mtime.Equal(files[j].mtime) {
			return files[i].mtime.Before(files[j].mtime)
		}
		return files[i].name < files[j].name
	})
	var garbage, remaining []string
	for _, f := range files {
		if f.expired && !protected[f.name] {
			garbage = append(garbage, f.name)
			continue
		}
		remaining = append(remaining, f.name)
	}
	excess := len(remaining) - records
	for _, name := range remaining {
		if excess <= 0 {
			break
		}
		if !protected[name] {
			garbage = append(garbage, name)
			excess--
		}
	}
	return garbage
}
