package artifact

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// Unpacked shares unpacked artifacts between their readers: every consumer
// of the same artifact (the same digest) reads one directory, downloaded,
// verified and unpacked once. A thousand Kustomizations on one Git
// revision then cost one download and one unpack instead of a thousand,
// each of the whole repository. Readers must not write to the directory.
//
// A directory is removed Linger after its last reader releases it, so that
// consumers that come one after another at the same revision still share;
// at most MaxIdle unused directories linger, so that many sources do not
// fill the disk with copies nobody reads.
type Unpacked struct {
	fetch  func(ctx context.Context, url, digest, dir string) error
	tmp    string
	linger time.Duration

	mu      sync.Mutex
	entries map[string]*unpackedEntry // by digest
}

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
	return &Unpacked{fetch: fetch, tmp: tmp, linger: linger, entries: map[string]*unpackedEntry{}}
}

// Acquire returns the directory holding the artifact with digest, fetching
// it from url unless another reader already did or is doing it. Call
// release when done reading. A failed fetch is not kept: the next Acquire
// tries again.
func (u *Unpacked) Acquire(ctx context.Context, url, digest string) (dir string, release func(), err error) {
	if _, _, err := ParseDigest(digest); err != nil {
		return "", nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	u.mu.Lock()
	e, ok := u.entries[digest]
	if !ok {
		e = &unpackedEntry{ready: make(chan struct{})}
		u.entries[digest] = e
	}
	e.refs++
	u.mu.Unlock()
	if !ok {
		go u.unpack(e, url, digest)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		u.release(digest, e)
		return "", nil, ctx.Err()
	}
	if e.err != nil {
		u.release(digest, e)
		return "", nil, e.err
	}
	var once sync.Once
	return e.dir, func() { once.Do(func() { u.release(digest, e) }) }, nil
}

// unpack fetches one artifact. It runs on its own context, so that the
// reader that started it giving up does not fail the others waiting.
func (u *Unpacked) unpack(e *unpackedEntry, url, digest string) {
	defer close(e.ready)
	dir, err := os.MkdirTemp(u.tmp, "artifact-")
	if err != nil {
		e.err = fmt.Errorf("create temporary directory: %w", err)
		u.forget(digest, e)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := u.fetch(ctx, url, digest, dir); err != nil {
		_ = os.RemoveAll(dir)
		e.err = err
		u.forget(digest, e)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	e.dir = dir
	if e.refs == 0 { // every reader gave up while it was fetched
		u.idleLocked(digest, e)
	}
}

// forget drops a failed entry, so the next Acquire fetches again.
func (u *Unpacked) forget(digest string, e *unpackedEntry) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.entries[digest] == e {
		delete(u.entries, digest)
	}
}

func (u *Unpacked) release(digest string, e *unpackedEntry) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e.refs--
	if e.refs > 0 || e.dir == "" {
		return // in use, or still being fetched: unpack handles it
	}
	u.idleLocked(digest, e)
}

// MaxIdle is how many unused unpacked artifacts may linger at once.
const MaxIdle = 8

// idleLocked removes an unused directory after the linger time; u.mu is held.
func (u *Unpacked) idleLocked(digest string, e *unpackedEntry) {
	idle := 0
	for _, other := range u.entries {
		if other.refs == 0 && other.dir != "" {
			idle++
		}
	}
	if u.linger <= 0 || idle > MaxIdle {
		u.removeLocked(digest, e)
		return
	}
	e.gen++
	gen := e.gen
	time.AfterFunc(u.linger, func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if e.refs == 0 && e.gen == gen {
			u.removeLocked(digest, e)
		}
	})
}

// removeLocked deletes an unused directory; u.mu is held.
func (u *Unpacked) removeLocked(digest string, e *unpackedEntry) {
	if u.entries[digest] == e {
		delete(u.entries, digest)
	}
	_ = os.RemoveAll(e.dir)
}

// Ready tells whether the artifact with digest is unpacked now, so that
// Acquire returns at once.
func (u *Unpacked) Ready(digest string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.entries[digest]
	return ok && e.dir != ""
}

// Len is the number of artifacts unpacked or being unpacked now.
func (u *Unpacked) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.entries)
}
