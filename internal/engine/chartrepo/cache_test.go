package chartrepo

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type counter struct {
	mu           sync.Mutex
	hits, misses int
}

func (c *counter) event(hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hit {
		c.hits++
	} else {
		c.misses++
	}
}

func testIndex(t *testing.T) *Index {
	t.Helper()
	idx, err := ParseIndex("u", []byte(indexA))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestCacheLoadsOncePerRevision(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var events counter
	c := NewCache(CacheOptions{Now: clock.Now})
	var mu sync.Mutex
	loads := 0
	load := func() (*Index, error) {
		mu.Lock()
		loads++
		mu.Unlock()
		return testIndex(t), nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx, hit, err := c.GetOrLoad("ns/repo", "sha256:1", load)
			events.event(hit)
			if err != nil || idx.Bytes() != nil || idx.Len() != 5 {
				t.Errorf("GetOrLoad: %v %v", idx, err)
			}
		}()
	}
	wg.Wait()
	if loads != 1 || events.misses != 1 || events.hits != 49 {
		t.Errorf("loads %d, misses %d, hits %d; want 1, 1, 49", loads, events.misses, events.hits)
	}
	// A new revision replaces the old one.
	if _, hit, err := c.GetOrLoad("ns/repo", "sha256:2", load); err != nil || hit {
		t.Fatal(err)
	}
	if _, ok := c.Get("ns/repo", "sha256:1"); ok || c.Len() != 1 || loads != 2 {
		t.Errorf("old revision kept: len %d loads %d", c.Len(), loads)
	}
	// A failed load is not kept.
	boom := errors.New("boom")
	if _, _, err := c.GetOrLoad("ns/other", "r", func() (*Index, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("load error %v", err)
	}
	if _, ok := c.Get("ns/other", "r"); ok {
		t.Error("a failed load was kept")
	}
}

func TestCacheTTLPurgeAndSize(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	c := NewCache(CacheOptions{Now: clock.Now, TTL: time.Minute, MaxEntries: 2})
	idx := testIndex(t)
	c.Set("a", "1", idx)
	clock.add(30 * time.Second)
	c.Set("b", "1", idx)
	clock.add(20 * time.Second)
	if _, ok := c.Get("a", "1"); !ok { // used at 50s: lives until 110s
		t.Fatal("a expired early")
	}
	clock.add(20 * time.Second)
	c.Set("c", "1", idx) // full: b (used at 30s) goes, not a (50s)
	if _, ok := c.Get("b", "1"); ok {
		t.Error("the least recently used index was not evicted")
	}
	if c.Len() != 2 {
		t.Errorf("len %d", c.Len())
	}
	clock.add(45 * time.Second) // a last used 65s ago, c 45s ago
	if n := c.Purge(); n != 1 || c.Len() != 1 {
		t.Errorf("purged %d, len %d; want 1, 1", n, c.Len())
	}
	if _, ok := c.Get("c", "1"); !ok {
		t.Error("c purged before its TTL")
	}
	c.Delete("c")
	if c.Len() != 0 {
		t.Error("Delete kept the repository")
	}
}
