package chartrepo

import (
	"context"
	"sync"
	"time"
)

// Defaults of CacheOptions, the defaults of --helm-cache-max-size,
// --helm-cache-ttl and --helm-cache-purge-interval. Unlike Flux, the cache
// is on by default: without it every HelmChart parses its repository's
// whole index on every reconcile.
const (
	DefaultCacheMaxEntries    = 100
	DefaultCacheTTL           = 15 * time.Minute
	DefaultCachePurgeInterval = time.Minute
)

// CacheOptions configure a Cache.
type CacheOptions struct {
	// MaxEntries bounds the number of indexes kept; the least recently
	// used goes first (default DefaultCacheMaxEntries).
	MaxEntries int
	// TTL is how long an index is kept after its last use (default
	// DefaultCacheTTL).
	TTL time.Duration
	// PurgeInterval is how often Run drops expired indexes (default
	// DefaultCachePurgeInterval).
	PurgeInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Cache keeps one compact Index (Index.Compact) per repository and index
// revision, shared by every HelmChart of the repository. Storing a new
// revision of a repository drops its older ones. It is safe for
// concurrent use.
type Cache struct {
	opts    CacheOptions
	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	// loading holds the loads in flight, so that concurrent lookups of one
	// revision parse the index once.
	loading map[cacheKey]*load
}

type cacheKey struct{ repo, revision string }

type cacheEntry struct {
	idx      *Index
	lastUsed time.Time
}

type load struct {
	done chan struct{}
	idx  *Index
	err  error
}

// NewCache returns an empty Cache.
func NewCache(opts CacheOptions) *Cache {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultCacheMaxEntries
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultCacheTTL
	}
	if opts.PurgeInterval <= 0 {
		opts.PurgeInterval = DefaultCachePurgeInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{opts: opts, entries: map[cacheKey]*cacheEntry{}, loading: map[cacheKey]*load{}}
}

// Get returns the index of repo (a key such as "<namespace>/<name>") at
// revision, if kept and not expired.
func (c *Cache) Get(repo, revision string) (*Index, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookup(cacheKey{repo, revision})
}

// lookup returns a live entry and marks it used; c.mu is held.
func (c *Cache) lookup(k cacheKey) (*Index, bool) {
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	now := c.opts.Now()
	if now.Sub(e.lastUsed) >= c.opts.TTL {
		delete(c.entries, k)
		return nil, false
	}
	e.lastUsed = now
	return e.idx, true
}

// Set keeps the compact form of idx for repo at revision, dropping the
// repository's other revisions and, when full, the least recently used
// index.
func (c *Cache) Set(repo, revision string, idx *Index) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(cacheKey{repo, revision}, idx.Compact())
}

func (c *Cache) set(k cacheKey, idx *Index) {
	for other := range c.entries {
		if other.repo == k.repo && other.revision != k.revision {
			delete(c.entries, other)
		}
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.opts.MaxEntries {
		var oldest cacheKey
		var at time.Time
		first := true
		for key, e := range c.entries {
			if first || e.lastUsed.Before(at) {
				oldest, at, first = key, e.lastUsed, false
			}
		}
		delete(c.entries, oldest)
	}
	c.entries[k] = &cacheEntry{idx: idx, lastUsed: c.opts.Now()}
}

// GetOrLoad returns the index of repo at revision from the cache, or
// calls load once (concurrent callers for the same key wait for that one
// load and count as hits) and keeps its compact form. hit tells whether
// the index came from the cache, for gotk_cache_events_total. A failed
// load is not kept.
func (c *Cache) GetOrLoad(repo, revision string, load func() (*Index, error)) (idx *Index, hit bool, err error) {
	k := cacheKey{repo, revision}
	c.mu.Lock()
	if idx, ok := c.lookup(k); ok {
		c.mu.Unlock()
		return idx, true, nil
	}
	if l, ok := c.loading[k]; ok {
		c.mu.Unlock()
		<-l.done
		return l.idx, true, l.err
	}
	l := newLoad()
	c.loading[k] = l
	c.mu.Unlock()

	loaded, err := load()
	if err == nil {
		l.idx = loaded.Compact()
	}
	l.err = err
	c.mu.Lock()
	delete(c.loading, k)
	if err == nil {
		c.set(k, l.idx)
	}
	c.mu.Unlock()
	close(l.done)
	return l.idx, false, l.err
}

func newLoad() *load { return &load{done: make(chan struct{})} }

// Delete drops every revision of repo (the HelmRepository was deleted or
// changed type).
func (c *Cache) Delete(repo string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.repo == repo {
			delete(c.entries, k)
		}
	}
}

// Purge drops the expired indexes and returns how many it dropped.
func (c *Cache) Purge() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, n := c.opts.Now(), 0
	for k, e := range c.entries {
		if now.Sub(e.lastUsed) >= c.opts.TTL {
			delete(c.entries, k)
			n++
		}
	}
	return n
}

// Len returns the number of indexes kept, expired ones included until
// purged.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Run purges expired indexes every PurgeInterval until ctx is done.
func (c *Cache) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Purge()
		}
	}
}
