package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// lockFileName is the lock file in each object directory. Its name starts
// with "." so it is never served nor collected.
const lockFileName = ".lock"

// lockTable holds the in-process side of the object locks: one token per
// object directory, so goroutines of one process exclude each other before
// they reach the file lock.
type lockTable struct {
	mu   sync.Mutex
	keys map[string]*keyLock
}

type keyLock struct {
	token chan struct{} // holding the one value means holding the lock
	refs  int
}

func newLockTable() *lockTable { return &lockTable{keys: map[string]*keyLock{}} }

// acquire takes the token of key, waiting for it when wait is set. It
// returns false when the token is taken and wait is not set.
func (t *lockTable) acquire(key string, wait bool) (release func(), ok bool) {
	t.mu.Lock()
	k := t.keys[key]
	if k == nil {
		k = &keyLock{token: make(chan struct{}, 1)}
		t.keys[key] = k
	}
	k.refs++
	t.mu.Unlock()

	if wait {
		k.token <- struct{}{}
	} else {
		select {
		case k.token <- struct{}{}:
		default:
			t.drop(key, k)
			return nil, false
		}
	}
	return func() {
		<-k.token
		t.drop(key, k)
	}, true
}

// drop forgets key once nobody holds or waits for it.
func (t *lockTable) drop(key string, k *keyLock) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k.refs--
	if k.refs == 0 {
		delete(t.keys, key)
	}
}

// Lock takes the exclusive lock of an object, waiting for it: other
// goroutines of this process and other processes sharing the storage wait
// until unlock is called. The lock is a file lock (flock) on a .lock file in
// the object directory, which is created when missing.
func (s *Storage) Lock(kind, namespace, name string) (unlock func(), err error) {
	unlock, _, err = s.lock(kind, namespace, name, true)
	return unlock, err
}

// TryLock is Lock without waiting: ok is false when the lock is held.
func (s *Storage) TryLock(kind, namespace, name string) (unlock func(), ok bool, err error) {
	return s.lock(kind, namespace, name, false)
}

func (s *Storage) lock(kind, namespace, name string, wait bool) (func(), bool, error) {
	rel, dir, err := s.objectDir(kind, namespace, name)
	if err != nil {
		return nil, false, fmt.Errorf("locking artifacts: %w", err)
	}
	release, ok := s.locks.acquire(rel, wait)
	if !ok {
		return nil, false, nil
	}
	f, ok, err := flockFile(dir, wait)
	if err != nil || !ok {
		release()
		if err != nil {
			return nil, false, fmt.Errorf("locking artifacts of %s: %w", rel, storageError(err))
		}
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Closing the file releases the flock.
			_ = f.Close()
			release()
		})
	}, true, nil
}

// flockFile opens (creating it and its directory when missing) and flocks the
// lock file of dir. When the file was removed or replaced while waiting (the
// object was deleted), it locks the new one instead, so two holders can never
// hold locks on different files.
func flockFile(dir string, wait bool) (*os.File, bool, error) {
	p := filepath.Join(dir, lockFileName)
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, false, err
			}
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if err := flock(f, how); err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("flock %s: %w", p, err)
		}
		held, err1 := f.Stat()
		current, err2 := os.Lstat(p)
		if err1 == nil && err2 == nil && os.SameFile(held, current) {
			return f, true, nil
		}
		_ = f.Close()
	}
}

// flock applies a flock operation, retrying when interrupted by a signal.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
