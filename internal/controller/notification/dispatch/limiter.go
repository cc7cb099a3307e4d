package dispatch

import (
	"crypto/sha256"
	"sync"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// maxLimiterKeys bounds the limiter's memory: with that many events seen
// within one interval, new ones pass unrecorded (a duplicate may then be
// sent twice; none is lost).
const maxLimiterKeys = 100000

// limiter lets one event per key through per interval, the key being
// Flux's: the object (name, namespace, kind), the message, and the
// revision, origin revision and token of the event's metadata.
type limiter struct {
	interval time.Duration
	now      func() time.Time

	mu        sync.Mutex
	seen      map[[sha256.Size]byte]time.Time // key → when it may pass again
	lastPrune time.Time
}

func newLimiter(interval time.Duration, now func() time.Time) *limiter {
	return &limiter{interval: interval, now: now, seen: map[[sha256.Size]byte]time.Time{}}
}

// limitKey is the sha256 of the fields that tell two events apart.
func limitKey(e *eventv1.Event) [sha256.Size]byte {
	group, _ := e.GroupVersion()
	h := sha256.New()
	for _, field := range []string{
		e.InvolvedObject.Name, e.InvolvedObject.Namespace, e.InvolvedObject.Kind, e.Message,
		e.Metadata[group+"/"+eventv1.MetaOriginRevisionKey],
		e.Metadata[group+"/"+eventv1.MetaRevisionKey],
		e.Metadata[group+"/"+eventv1.MetaTokenKey],
	} {
		// length-prefixed, so no two field lists hash alike
		var n [8]byte
		for i, l := 0, uint64(len(field)); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		h.Write(n[:])
		h.Write([]byte(field))
	}
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))
	return key
}

// allow tells whether the event may pass, recording it when it does.
// A zero or negative interval lets everything pass.
func (l *limiter) allow(key [sha256.Size]byte) bool {
	if l.interval <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if until, ok := l.seen[key]; ok && now.Before(until) {
		return false
	}
	if now.Sub(l.lastPrune) >= l.interval || len(l.seen) >= maxLimiterKeys {
		l.prune(now)
	}
	if len(l.seen) < maxLimiterKeys {
		l.seen[key] = now.Add(l.interval)
	}
	return true
}

// forget removes the key, for an event that was let through but could not
// be queued: sent again, it must not count as a duplicate.
func (l *limiter) forget(key [sha256.Size]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.seen, key)
}

// prune drops the keys whose interval has passed. l.mu is held.
func (l *limiter) prune(now time.Time) {
	for k, until := range l.seen {
		if !now.Before(until) {
			delete(l.seen, k)
		}
	}
	l.lastPrune = now
}
