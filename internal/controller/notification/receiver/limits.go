package receiver

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket: burst requests at once, perSecond after.
type bucket struct {
	tokens float64
	at     time.Time
}

// rateLimiter bounds the requests of each Receiver.
type rateLimiter struct {
	perSecond float64
	burst     float64
	mu        sync.Mutex
	buckets   map[string]*bucket
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	return &rateLimiter{perSecond: perSecond, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token of key's bucket; when none is left it says how long
// until one is.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= 4096 {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.perSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
	return false, wait
}

// prune forgets the buckets full again: they would start full anyway.
func (l *rateLimiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.perSecond >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// coalescer lets one patch of an object through per interval: a request
// within the interval of the last patch schedules one more at its end,
// which every request until then shares, so the last request is always
// followed by a patch and a flood costs one write a second.
type coalescer struct {
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
	pending  map[string]bool
}

func newCoalescer(interval time.Duration) *coalescer {
	return &coalescer{interval: interval, last: map[string]time.Time{}, pending: map[string]bool{}}
}

// do runs patch now when key was not patched within the interval and
// returns its error; otherwise it schedules the shared trailing patch (its
// failure goes to onLater) and returns nil at once.
func (c *coalescer) do(key string, patch func() error, onLater func(error)) error {
	c.mu.Lock()
	now := time.Now()
	last, seen := c.last[key]
	if !seen || now.Sub(last) >= c.interval {
		c.last[key] = now
		c.forget(now)
		c.mu.Unlock()
		return patch()
	}
	if c.pending[key] {
		c.mu.Unlock()
		return nil
	}
	c.pending[key] = true
	c.mu.Unlock()
	time.AfterFunc(last.Add(c.interval).Sub(now), func() {
		c.mu.Lock()
		c.last[key] = time.Now()
		delete(c.pending, key)
		c.mu.Unlock()
		if err := patch(); err != nil && onLater != nil {
			onLater(err)
		}
	})
	return nil
}

// forget drops the records older than the interval, when there are many.
func (c *coalescer) forget(now time.Time) {
	if len(c.last) < 4096 {
		return
	}
	for k, t := range c.last {
		if now.Sub(t) >= c.interval && !c.pending[k] {
			delete(c.last, k)
		}
	}
}
