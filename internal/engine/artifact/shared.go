package artifact

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// Unpacked shares unpacked artifacts between their readers: every consumer
// of the same artifact (the same source object at the same digest) reads one
// directory, downloaded, verified and unpacked once. A thousand Kustomizations on one Git
// revision then cost one download and one unpack instead of a thousand,
// each of the whole repository. Readers must not write to the directory.
//
// Entries are keyed by the source and the digest, never by the digest
// alone: a digest is no secret (it is in every consumer's status), so a
// tenant that forges a source status with another tenant's digest would
// otherwise read that tenant's files without ever downloading them. Keyed by
// source, the forged status downloads from its own URL, and the digest check
// refuses content that is not the tenant's to get.
//
// A directory is removed Linger after its last reader releases it, so that
// consumers that come one after another at the same revision still share;
// at most MaxIdle unused directories linger, so that many sources do not
// fill the disk with copies nobody reads.
type Unpacked struct {
	fetch  func(ctx context.Context, url, digest, dir string) error
	tmp    string
	linger time.Duration
	// afterFunc runs f after d, as time.AfterFunc; tests fire the linger
	// timers themselves instead of waiting on the clock.
	afterFunc func(d time.Duration, f func())

	mu      sync.Mutex
	entries map[unpackedKey]*unpackedEntry
}

// unpackedKey identifies an entry: the source object and its digest.
type unpackedKey struct{ source, digest string }

type unpackedEntry struct {
	dir   string
	ready chan struct{} // closed when the unpack ended
	err   error         // set before ready closes
	refs  int           // guarded by Unpacked.mu
	gen   int           // guarded by Unpacked.mu: bumped when refs drops to 0
}

// NewUnpacked returns a share that fetches with f into directories under
// tmp ("" is the system default) and keeps idle ones for linger.
func NewUnpacked(f *Fetcher, tmp string, linger time.Duration) *Unpacked {
	return newUnpacked(f.Fetch, tmp, linger)
}

func newUnpacked(fetch func(ctx context.Context, url, digest, dir string) error, tmp string, linger time.Duration) *Unpacked {
	return &Unpacked{fetch: fetch, tmp: tmp, linger: linger, entries: map[unpackedKey]*unpackedEntry{},
		afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// SourceKey is the source identity Acquire and Ready take: the kind, the
// namespace and the name of the source object.
func SourceKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// Acquire returns the directory holding the artifact with digest of the
// source object named source ("<Kind>/<namespace>/<name>", see SourceKey),
// fetching it from url unless another reader of that source already did or
// is doing it. Call release when done reading. A failed fetch is not kept:
// the next Acquire tries again.
func (u *Unpacked) Acquire(ctx context.Context, source, url, digest string) (dir string, release func(), err error) {
	if source == "" {
		return "", nil, fmt.Errorf("fetching %s: no source identity", url)
	}
	if _, _, err := ParseDigest(digest); err != nil {
		return "", nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	key := unpackedKey{source: source, digest: digest}
	u.mu.Lock()
	e, ok := u.entries[key]
	if !ok {
		e = &unpackedEntry{ready: make(chan struct{})}
		u.entries[key] = e
	}
	e.refs++
	u.mu.Unlock()
	if !ok {
		go u.unpack(e, key, url)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		u.release(key, e)
		return "", nil, ctx.Err()
	}
	if e.err != nil {
		u.release(key, e)
		return "", nil, e.err
	}
	var once sync.Once
	return e.dir, func() { once.Do(func() { u.release(key, e) }) }, nil
}

// unpack fetches one artifact. It runs on its own context, so that the
// reader that started it giving up does not fail the others waiting.
func (u *Unpacked) unpack(e *unpackedEntry, key unpackedKey, url string) {
	defer close(e.ready)
	dir, err := os.MkdirTemp(u.tmp, "artifact-")
	if err != nil {
		e.err = fmt.Errorf("create temporary directory: %w", err)
		u.forget(key, e)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := u.fetch(ctx, url, key.digest, dir); err != nil {
		_ = os.RemoveAll(dir)
		e.err = err
		u.forget(key, e)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	e.dir = dir
	if e.refs == 0 { // every reader gave up while it was fetched
		u.idleLocked(key, e)
	}
}

// forget drops a failed entry, so the next Acquire fetches again.
func (u *Unpacked) forget(key unpackedKey, e *unpackedEntry) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.entries[key] == e {
		delete(u.entries, key)
	}
}

func (u *Unpacked) release(key unpackedKey, e *unpackedEntry) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e.refs--
	if e.refs > 0 || e.dir == "" {
		return // in use, or still being fetched: unpack handles it
	}
	u.idleLocked(key, e)
}

// MaxIdle is how many unused unpacked artifacts may linger at once.
const MaxIdle = 8

// idleLocked removes an unused directory after the linger time; u.mu is held.
func (u *Unpacked) idleLocked(key unpackedKey, e *unpackedEntry) {
	idle := 0
	for _, other := range u.entries {
		if other.refs == 0 && other.dir != "" {
			idle++
		}
	}
	if u.linger <= 0 || idle > MaxIdle {
		u.removeLocked(key, e)
		return
	}
	e.gen++
	gen := e.gen
	u.afterFunc(u.linger, func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if e.refs == 0 && e.gen == gen {
			u.removeLocked(key, e)
		}
	})
}

// removeLocked deletes an unused directory; u.mu is held.
func (u *Unpacked) removeLocked(key unpackedKey, e *unpackedEntry) {
	if u.entries[key] == e {
		delete(u.entries, key)
	}
	_ = os.RemoveAll(e.dir)
}

// Ready tells whether the artifact with digest of source is unpacked now, so
// that Acquire returns at once.
func (u *Unpacked) Ready(source, digest string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.entries[unpackedKey{source: source, digest: digest}]
	return ok && e.dir != ""
}

// Len is the number of artifacts unpacked or being unpacked now.
func (u *Unpacked) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.entries)
}
