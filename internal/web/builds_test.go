package web

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
)

// countingStore counts the lists an overview build makes.
type countingStore struct {
	*MemoryStore
	lists atomic.Int64
}

func (c *countingStore) List(ctx context.Context, k kinds.Kind, ns string) ([]kinds.Object, error) {
	c.lists.Add(1)
	return c.MemoryStore.List(ctx, k, ns)
}

func TestSharedBuilds(t *testing.T) {
	store := &countingStore{MemoryStore: NewMemoryStore(fixtures()...)}
	opts := testOptions()
	opts.Store = store
	s := newServer(opts)
	ctx := context.WithValue(context.Background(), viewerKey{}, Viewer{})
	f := filter{}
	perBuild := func() int64 {
		before := store.lists.Load()
		s.overviewData(ctx, f)
		return store.lists.Load() - before
	}()

	taken := time.Now()
	first := s.builds.overview(ctx, s, f, taken)
	before := store.lists.Load()
	// Another stream that took its changes before that build started
	// shares it.
	second := s.builds.overview(ctx, s, f, taken)
	if got := store.lists.Load() - before; got != 0 {
		t.Errorf("a second stream of the same viewer and filter listed %d times, want 0 (a shared build)", got)
	}
	if len(second.Rows) != len(first.Rows) {
		t.Errorf("the shared build has %d rows, the first %d", len(second.Rows), len(first.Rows))
	}
	// A stream that took changes after the build started builds anew: the
	// build may not hold them.
	before = store.lists.Load()
	s.builds.overview(ctx, s, f, time.Now().Add(time.Millisecond))
	if got := store.lists.Load() - before; got != perBuild {
		t.Errorf("a stream with later changes listed %d times, want a build of its own (%d)", got, perBuild)
	}
	// Another filter, or another viewer, is another build.
	before = store.lists.Load()
	s.builds.overview(ctx, s, filter{Kind: "Kustomization"}, taken)
	other := context.WithValue(context.Background(), viewerKey{}, Viewer{User: auth.User{Name: "someone-else"}})
	s.builds.overview(other, s, f, taken)
	if got := store.lists.Load() - before; got != 2*perBuild {
		t.Errorf("another filter and another viewer listed %d times, want two builds (%d)", got, 2*perBuild)
	}
}

func TestFlushWaitAlignsOnTheClock(t *testing.T) {
	const flush = 250 * time.Millisecond
	base := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now, last time.Duration // after base
		want      time.Duration
	}{
		{now: 10 * time.Millisecond, last: -time.Hour, want: 240 * time.Millisecond},              // to the next beat
		{now: 0, last: -time.Hour, want: 0},                                                       // on the beat
		{now: 10 * time.Millisecond, last: 0, want: 240 * time.Millisecond},                       // a flush after the last
		{now: 260 * time.Millisecond, last: 250 * time.Millisecond, want: 240 * time.Millisecond}, // never two in one flush
	} {
		got := flushWait(base.Add(tc.now), base.Add(tc.last), flush)
		if got != tc.want {
			t.Errorf("flushWait(now %v, last %v) = %v, want %v", tc.now, tc.last, got, tc.want)
		}
	}
}
