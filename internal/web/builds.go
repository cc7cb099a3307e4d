package web

import (
	"context"
	"strings"
	"sync"
	"time"
)

// buildsKept is how long a finished overview build stays for streams
// that render a moment later; older ones are dropped.
const buildsKept = 5 * time.Second

// sharedBuilds lets the streams of one viewer and filter share an
// overview build. During a change wave every open overview renders up to
// four times a second, and each render lists, reads and sorts every
// object: ten open pages made ten builds where one would do (the UI
// benchmark's W1 wave ran 30 % slower). A stream may take a build only if
// it started after the newest of the stream's changes reached it, so that
// it holds them: the store (an informer's cache) is updated before its
// subscribers hear of a change. Every stream hears of a change at the
// same moment, so the streams one change woke share the first build that
// starts after it. A build in flight is waited for rather than repeated.
type sharedBuilds struct {
	mu     sync.Mutex
	builds map[string]*overviewBuild
}

type overviewBuild struct {
	start time.Time
	done  chan struct{}
	data  overviewData
	// ok is false when the build's stream ended while it ran: what it
	// read may be cut short, so no other stream takes it.
	ok bool
}

// overview is the overview for the viewer in ctx under f, built at or
// after newest: shared when another stream's build qualifies.
func (b *sharedBuilds) overview(ctx context.Context, s *server, f filter, newest time.Time) overviewData {
	key := buildKey(ctx, f)
	b.mu.Lock()
	if b.builds == nil {
		b.builds = map[string]*overviewBuild{}
	}
	if cur := b.builds[key]; cur != nil && !cur.start.Before(newest) {
		b.mu.Unlock()
		select {
		case <-cur.done:
			if cur.ok {
				return cur.data
			}
			return s.overviewData(ctx, f)
		case <-ctx.Done():
			return overviewData{Filter: f}
		}
	}
	now := time.Now()
	for k, old := range b.builds {
		if now.Sub(old.start) > buildsKept {
			delete(b.builds, k)
		}
	}
	nb := &overviewBuild{start: now, done: make(chan struct{})}
	b.builds[key] = nb
	b.mu.Unlock()
	nb.data = s.overviewData(ctx, f)
	nb.ok = ctx.Err() == nil
	close(nb.done)
	return nb.data
}

// buildKey is who is looking (what they may see) and through which filter.
func buildKey(ctx context.Context, f filter) string {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	var b strings.Builder
	for _, part := range append([]string{v.User.Name, f.Q, f.Kind, f.Namespace, f.Status}, v.User.Groups...) {
		b.WriteString(part)
		b.WriteByte(0)
	}
	if v.User.Anonymous {
		b.WriteString("anonymous")
	}
	return b.String()
}
