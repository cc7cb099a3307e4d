// Package tagstore keeps the tags each ImageRepository scanned, one file per
// repository under its own directory: imagerepository/<namespace>/<name>/tags,
// the tags sorted one per line, gzip-compressed above 64 KiB, written
// atomically and removed with the object. It is keyed by namespace and
// name, never by image, so two repositories of one image with different
// credentials never share a tag list. Nothing but a small, byte-bounded
// cache stays in memory, so memory does not grow with the number of
// repositories; every access reads or replaces a whole list, which is why
// this is files and not a key-value database (Flux's Badger store drew its
// users' memory and disk complaints).
//
// A list is read back only with the revision its write returned (the
// ImageRepository's status.lastScanResult.revision): a missing file, or one
// whose contents do not hash to that revision, is ErrNotStored, which the
// controller answers by scanning again, never with an error.
package tagstore

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ErrNotStored says the store has no list at the asked revision: the
// repository must be scanned again.
var ErrNotStored = errors.New("no stored tags at this revision")

// gzipAbove is the size of a list, one tag per line, above which its file is
// gzip-compressed.
const gzipAbove = 64 << 10

// maxFileSize bounds what a read decompresses: a tag is at most 128
// characters, and no registry lists a million of them.
const maxFileSize = 256 << 20

// Store is the tag store under one directory. It is safe for concurrent
// use; writes of one repository are serialised by the caller's reconcile.
type Store struct {
	root string

	mu       sync.Mutex
	cache    *list.List // of *entry, most recently used first
	byKey    map[string]*list.Element
	size     int
	maxCache int
}

type entry struct {
	key, revision string
	tags          []string
	size          int
	// file is the tag file the tags came from: the cache answers only
	// while it is still that file.
	file os.FileInfo
}

// New returns the store under root (--image-storage-path), creating it,
// with a cache of at most cacheBytes of tags (0: no cache).
func New(root string, cacheBytes int) (*Store, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("tag store: %w", err)
	}
	return &Store{root: root, cache: list.New(), byKey: map[string]*list.Element{}, maxCache: cacheBytes}, nil
}

// Revision is the stable hash of a tag set: the hex SHA-256 of its sorted,
// de-duplicated tags, one per line.
func Revision(tags []string) string {
	return revisionOf(encode(normalise(tags)))
}

// Put stores the tags of the repository namespace/name, sorted and
// de-duplicated, replacing what was there, and returns their revision.
func (s *Store) Put(namespace, name string, tags []string) (string, error) {
	dir, err := s.dir(namespace, name)
	if err != nil {
		return "", err
	}
	tags = normalise(tags)
	raw := encode(tags)
	revision := revisionOf(raw)
	data := raw
	if len(raw) > gzipAbove {
		if data, err = compress(raw); err != nil {
			return "", fmt.Errorf("tag store: compress the tags of %s/%s: %w", namespace, name, err)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("tag store: %w", err)
	}
	file := filepath.Join(dir, "tags")
	if err := writeAtomic(file, data); err != nil {
		return "", fmt.Errorf("tag store: write the tags of %s/%s: %w", namespace, name, err)
	}
	if info, err := os.Stat(file); err == nil {
		s.remember(namespace+"/"+name, revision, tags, info)
	}
	return revision, nil
}

// Get returns the tags of namespace/name stored at revision, or
// ErrNotStored when there are none or they are not that revision's. The
// caller must not change the returned slice.
func (s *Store) Get(namespace, name, revision string) ([]string, error) {
	dir, err := s.dir(namespace, name)
	if err != nil {
		return nil, err
	}
	key := namespace + "/" + name
	file := filepath.Join(dir, "tags")
	// The cache answers only while the file is the one it was read from
	// or written as: a deleted or replaced file means reading it again.
	info, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		s.forget(key)
		return nil, ErrNotStored
	} else if err != nil {
		return nil, fmt.Errorf("tag store: read the tags of %s: %w", key, err)
	}
	if tags, ok := s.cached(key, revision, info); ok {
		return tags, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotStored
	} else if err != nil {
		return nil, fmt.Errorf("tag store: read the tags of %s: %w", key, err)
	}
	raw, err := decompress(data)
	if err != nil || revision == "" || revisionOf(raw) != revision {
		// Corrupt, cut short or another revision's: scan again.
		return nil, ErrNotStored
	}
	tags := decode(raw)
	s.remember(key, revision, tags, info)
	return tags, nil
}

// Delete removes the tags of namespace/name; removing what is not there is
// not an error.
func (s *Store) Delete(namespace, name string) error {
	dir, err := s.dir(namespace, name)
	if err != nil {
		return err
	}
	s.forget(namespace + "/" + name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("tag store: delete the tags of %s/%s: %w", namespace, name, err)
	}
	// The namespace's directory goes with its last repository.
	_ = os.Remove(filepath.Dir(dir))
	return nil
}

// dir is the repository's directory, refusing names no Kubernetes object
// has: a name with a slash or "..", or an empty one, could reach outside
// the store.
func (s *Store) dir(namespace, name string) (string, error) {
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return "", fmt.Errorf("tag store: namespace %q: %s", namespace, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", fmt.Errorf("tag store: name %q: %s", name, strings.Join(errs, "; "))
	}
	return filepath.Join(s.root, "imagerepository", namespace, name), nil
}

func normalise(tags []string) []string {
	if normal(tags) {
		return tags
	}
	out := slices.Clone(tags)
	out = slices.DeleteFunc(out, func(t string) bool { return t == "" || strings.ContainsAny(t, "\n\r") })
	slices.Sort(out)
	return slices.Compact(out)
}

// normal tells whether tags are already as normalise makes them: sorted,
// distinct, none empty or holding a line break (a scan's list is).
func normal(tags []string) bool {
	for i, t := range tags {
		if t == "" || strings.ContainsAny(t, "\n\r") || (i > 0 && tags[i-1] >= t) {
			return false
		}
	}
	return true
}

func encode(tags []string) []byte {
	if len(tags) == 0 {
		return nil
	}
	n := 0
	for _, t := range tags {
		n += len(t) + 1
	}
	out := make([]byte, 0, n)
	for _, t := range tags {
		out = append(append(out, t...), '\n')
	}
	return out
}

func decode(raw []byte) []string {
	s := strings.TrimSuffix(string(raw), "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

func revisionOf(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// gzipWriters are reused: a gzip.Writer holds about 800 KB of compressor
// state, and twenty scans writing at once would otherwise hold 16 MB of it
// for a moment each time.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// compress gzips raw.
func compress(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&b)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decompress returns the list a file holds, gunzipping it when it starts
// with gzip's magic bytes (no tag list does: tags are printable).
func decompress(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxFileSize {
		return nil, errors.New("tag list too large")
	}
	return raw, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, synced and renamed, so a crash leaves the old list or the new
// one, never half of either.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tags-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// listSize is what a list costs in the cache: its bytes and a slice header
// per tag.
func listSize(tags []string) int {
	n := 0
	for _, t := range tags {
		n += len(t) + 16
	}
	return n
}

func (s *Store) cached(key, revision string, file os.FileInfo) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	if e.revision != revision || !os.SameFile(e.file, file) || !e.file.ModTime().Equal(file.ModTime()) || e.file.Size() != file.Size() {
		return nil, false
	}
	s.cache.MoveToFront(el)
	return e.tags, true
}

func (s *Store) remember(key, revision string, tags []string, file os.FileInfo) {
	size := listSize(tags)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(key)
	if size > s.maxCache {
		return
	}
	s.byKey[key] = s.cache.PushFront(&entry{key: key, revision: revision, tags: tags, size: size, file: file})
	s.size += size
	for s.size > s.maxCache {
		s.forgetLocked(s.cache.Back().Value.(*entry).key)
	}
}

func (s *Store) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(key)
}

func (s *Store) forgetLocked(key string) {
	if el, ok := s.byKey[key]; ok {
		s.size -= el.Value.(*entry).size
		s.cache.Remove(el)
		delete(s.byKey, key)
	}
}

// CachedBytes is what the cache holds now, for tests and metrics.
func (s *Store) CachedBytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}
