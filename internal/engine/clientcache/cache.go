// Package clientcache keeps the clients a controller builds per identity
// (a ServiceAccount it impersonates, a remote cluster's kubeconfig): a
// discovery client, RESTMapper and OpenAPI cache cost a cluster round trip
// and memory each, so they are shared between reconciliations, but a tenant
// naming ever new identities must not make the controller keep them all.
// The cache holds at most MaxEntries, least recently used first out, and
// forgets an entry unused for IdleTimeout.
package clientcache

import (
	"container/list"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxEntries  = 256
	DefaultIdleTimeout = time.Hour
)

// Options bound a Cache.
type Options struct {
	// MaxEntries is the number of identities kept; 0 is DefaultMaxEntries.
	MaxEntries int
	// IdleTimeout forgets an entry not used for this long; 0 is
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Cache maps identity keys (see Key) to values built once per key. An
// evicted value is only dropped: whoever still holds it may use it to the
// end, and what it started (informers) stops with its last user. It is
// safe for concurrent use.
type Cache[V any] struct {
	opts Options

	mu      sync.Mutex
	entries map[string]*list.Element // of *entry[V]
	order   list.List                // most recently used first
	builds  int
}

type entry[V any] struct {
	key  string
	used time.Time
	// done is closed once v and err are set.
	done chan struct{}
	v    V
	err  error
}

// New returns an empty Cache.
func New[V any](opts Options) *Cache[V] {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache[V]{opts: opts, entries: map[string]*list.Element{}}
}

// Get returns the value of key, building it with build when the cache has
// none (or only an expired one). Concurrent Gets of one key build once and
// share the result; a failed build is not kept.
func (c *Cache[V]) Get(key string, build func() (V, error)) (V, error) {
	c.mu.Lock()
	now := c.opts.Now()
	c.expireLocked(now)
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*entry[V])
		e.used = now
		c.order.MoveToFront(el)
		c.mu.Unlock()
		<-e.done
		return e.v, e.err
	}
	e := &entry[V]{key: key, used: now, done: make(chan struct{})}
	c.entries[key] = c.order.PushFront(e)
	c.builds++
	for c.order.Len() > c.opts.MaxEntries {
		c.removeLocked(c.order.Back())
	}
	c.mu.Unlock()

	e.v, e.err = build()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if el, ok := c.entries[key]; ok && el.Value.(*entry[V]) == e {
			c.removeLocked(el)
		}
		c.mu.Unlock()
	}
	return e.v, e.err
}

// Len is the number of entries kept, expired ones not counted.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(c.opts.Now())
	return c.order.Len()
}

// Builds counts the values built since the Cache was made.
func (c *Cache[V]) Builds() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.builds
}

// expireLocked drops the entries idle for IdleTimeout, from the least
// recently used; c.mu is held.
func (c *Cache[V]) expireLocked(now time.Time) {
	for el := c.order.Back(); el != nil; el = c.order.Back() {
		if now.Sub(el.Value.(*entry[V]).used) < c.opts.IdleTimeout {
			return
		}
		c.removeLocked(el)
	}
}

func (c *Cache[V]) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*entry[V]).key)
	c.order.Remove(el)
}
