package artifact

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

const (
	testDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	testSource = "GitRepository/flux-system/fleet"
)

// fakeFetch writes one file per fetch and counts the fetches; gate, when
// set, holds every fetch until it is closed.
type fakeFetch struct {
	calls atomic.Int32
	gate  chan struct{}
	fail  atomic.Bool
}

func (f *fakeFetch) fetch(ctx context.Context, _, _, dir string) error {
	f.calls.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	if f.fail.Load() {
		return errors.New("server down")
	}
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: []\n"), 0o644)
}

func TestUnpackedFetchesOnceForConcurrentReaders(t *testing.T) {
	f := &fakeFetch{gate: make(chan struct{})}
	u := newUnpacked(f.fetch, t.TempDir(), 0)
	const n = 10
	dirs := make([]string, n)
	releases := make([]func(), n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, release, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", testDigest)
			if err != nil {
				t.Error(err)
				return
			}
			dirs[i], releases[i] = dir, release
		}()
	}
	close(f.gate)
	wg.Wait()
	if c := f.calls.Load(); c != 1 {
		t.Fatalf("%d fetches for %d concurrent readers, want 1", c, n)
	}
	for _, d := range dirs {
		if d != dirs[0] {
			t.Fatalf("readers got different directories: %q and %q", d, dirs[0])
		}
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	for i, release := range releases {
		release()
		release() // a second call is harmless
		if i < n-1 {
			if _, err := os.Stat(dirs[0]); err != nil {
				t.Fatalf("directory removed while %d readers still hold it", n-1-i)
			}
		}
	}
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) || u.Len() != 0 {
		t.Fatalf("after the last release: stat %v, %d entries; want the directory gone", err, u.Len())
	}
}

func TestUnpackedLingersThenRemoves(t *testing.T) {
	f := &fakeFetch{}
	const linger = 300 * time.Millisecond
	u := newUnpacked(f.fetch, t.TempDir(), linger)
	// The linger timers fire when the test says, not on the wall clock:
	// "right after" below then holds however slow the machine.
	var timers []func()
	u.afterFunc = func(d time.Duration, fire func()) {
		if d != linger {
			t.Errorf("a linger timer of %s, want %s", d, linger)
		}
		timers = append(timers, fire)
	}
	dir, release, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", testDigest)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if !u.Ready(testSource, testDigest) {
		t.Fatal("an idle lingering artifact is not Ready")
	}
	again, release2, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", testDigest)
	if err != nil {
		t.Fatal(err)
	}
	if again != dir || f.calls.Load() != 1 {
		t.Fatalf("a reader right after the last one fetched again (%d fetches, %q vs %q)", f.calls.Load(), again, dir)
	}
	release2()
	if len(timers) != 2 {
		t.Fatalf("%d linger timers after two releases, want 2", len(timers))
	}
	timers[0]() // the first release's linger ends: a reader came since
	if u.Len() != 1 || !u.Ready(testSource, testDigest) {
		t.Fatal("the linger of an earlier release removed a directory read since")
	}
	timers[1]()
	if u.Len() != 0 {
		t.Fatal("the idle directory was not removed when its linger ended")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory still there after linger: %v", err)
	}
	if u.Ready(testSource, testDigest) {
		t.Fatal("a removed artifact is Ready")
	}
}

func TestUnpackedFailureIsNotKept(t *testing.T) {
	f := &fakeFetch{}
	f.fail.Store(true)
	u := newUnpacked(f.fetch, t.TempDir(), time.Minute)
	if _, _, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", testDigest); err == nil || err.Error() != "server down" {
		t.Fatalf("err = %v, want the fetch error", err)
	}
	f.fail.Store(false)
	dir, release, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", testDigest)
	if err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	defer release()
	if f.calls.Load() != 2 || dir == "" {
		t.Fatalf("%d fetches, want a second one after the failure", f.calls.Load())
	}
	if _, _, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", "md5:abc"); err == nil {
		t.Fatal("a malformed digest was accepted")
	}
}

func TestUnpackedCancelledReaderLeavesOthers(t *testing.T) {
	f := &fakeFetch{gate: make(chan struct{})}
	u := newUnpacked(f.fetch, t.TempDir(), 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := u.Acquire(ctx, testSource, "http://x/a.tar.gz", testDigest); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reader: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, release, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", testDigest)
		if err == nil {
			release()
		}
		done <- err
	}()
	// Open the gate only once the second reader waits on the same fetch.
	testcluster.Eventually(t, 10*time.Second, "the second reader to join the fetch", func() (bool, error) {
		return refs(u, testSource, testDigest) == 1, nil
	})
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatalf("the reader that stayed: %v", err)
	}
	if c := f.calls.Load(); c != 1 {
		t.Fatalf("%d fetches, want 1", c)
	}
	// The reader released before it answered on done, and without a
	// linger the last release removes the entry at once.
	if n := u.Len(); n != 0 {
		t.Fatalf("%d entries left behind", n)
	}
}

func TestUnpackedBoundsIdleCopies(t *testing.T) {
	f := &fakeFetch{}
	u := newUnpacked(f.fetch, t.TempDir(), time.Hour)
	for i := range MaxIdle + 5 {
		digest := fmt.Sprintf("sha256:%064x", i)
		_, release, err := u.Acquire(context.Background(), testSource, "http://x/a.tar.gz", digest)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if n := u.Len(); n != MaxIdle {
		t.Fatalf("%d unpacked artifacts kept, want at most %d", n, MaxIdle)
	}
}

// refs is the reader count of the artifact with digest of source, 0 when
// absent.
func refs(u *Unpacked, source, digest string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e, ok := u.entries[unpackedKey{source: source, digest: digest}]; ok {
		return e.refs
	}
	return 0
}

// TestUnpackedKeyedBySource forges a source status with another source's
// digest: the forger gets its own directory and download, never the other
// source's unpacked files.
func TestUnpackedKeyedBySource(t *testing.T) {
	victim := makeTarGz(t, []tarEntry{{name: "secret.yaml", content: "victim's\n"}})
	forged := makeTarGz(t, []tarEntry{{name: "secret.yaml", content: "forger's own\n"}})
	mux := http.NewServeMux()
	var requests atomic.Int32
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { requests.Add(1); _, _ = w.Write(body) }
	}
	mux.Handle("/victim.tar.gz", serve(victim))
	mux.Handle("/copy.tar.gz", serve(victim))
	mux.Handle("/forged.tar.gz", serve(forged))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	u := NewUnpacked(fastFetcher(t, func(o *FetcherOptions) { o.Retries = -1 }), t.TempDir(), time.Hour)
	ctx := context.Background()
	digest := sha256Digest(victim)

	vdir, vrelease, err := u.Acquire(ctx, SourceKey("GitRepository", "victim", "app"), srv.URL+"/victim.tar.gz", digest)
	if err != nil {
		t.Fatal(err)
	}
	defer vrelease()
	forger := SourceKey("GitRepository", "forger", "app")
	if u.Ready(forger, digest) {
		t.Fatal("another source's unpacked artifact is Ready for the forger")
	}
	_, _, err = u.Acquire(ctx, forger, srv.URL+"/forged.tar.gz", digest)
	var dm *DigestMismatchError
	if !errors.As(err, &dm) {
		t.Fatalf("forged status with the victim's digest: %v, want a digest mismatch", err)
	}
	// A second source with the same content legitimately (a fork at the same
	// commit) downloads its own copy into its own directory.
	cdir, crelease, err := u.Acquire(ctx, SourceKey("GitRepository", "fork", "app"), srv.URL+"/copy.tar.gz", digest)
	if err != nil {
		t.Fatal(err)
	}
	defer crelease()
	if cdir == vdir {
		t.Fatalf("two sources share the directory %s", cdir)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d downloads, want one per source (3)", n)
	}
	if b, err := os.ReadFile(filepath.Join(vdir, "secret.yaml")); err != nil || string(b) != "victim's\n" {
		t.Errorf("victim's file: %q, %v", b, err)
	}
	if _, _, err := u.Acquire(ctx, "", srv.URL+"/victim.tar.gz", digest); !errContains(err, "no source identity") {
		t.Errorf("empty source: %v", err)
	}
}
