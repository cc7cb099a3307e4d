package web

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/eventsource"
)

// sideFeed is a live view that follows something besides the Store: the
// object page follows its Kubernetes events. follow runs on its own
// goroutine until ctx (the stream's) ends and calls poke on each change;
// the stream coalesces the pokes as it does the Store's changes and calls
// renderSide on its own goroutine.
type sideFeed interface {
	follow(ctx context.Context, poke func())
	renderSide(ctx context.Context, w *eventWriter) error
}

// The backoff of a failed events watch: it starts again after
// eventsRetryFirst, doubling to eventsRetryMax, and a watch that delivered
// something starts the count over. Variables, so that tests wait less.
var (
	eventsRetryFirst = time.Second
	eventsRetryMax   = time.Minute
)

// pokeSide marks that the sideFeed changed and wakes the stream; pokes
// until the next send are one. It is apart from poke, which re-renders
// the view's own fragments: an event re-renders the events only.
func (p *pending) pokeSide() {
	p.mu.Lock()
	p.sidePoked = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// takeSidePoke tells whether pokeSide was called since the last call.
func (p *pending) takeSidePoke() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	poked := p.sidePoked
	p.sidePoked = false
	return poked
}

// follow watches the events of the page's object and of its related
// objects, one watch each with the involved object's field selector, for
// this stream only. Nothing is watched without an EventSource, for an
// object the viewer may not see (the Store answers NotFound), or in a
// namespace whose events the viewer may not list. When the object changes
// the set is worked out again: a Kustomization pointed at another source
// follows that source's events from then on.
func (o *objectLive) follow(ctx context.Context, poke func()) {
	if o.s.eventSource == nil {
		return
	}
	changed := make(chan struct{}, 1)
	cancel := o.s.store.Subscribe(func(c Change) {
		if o.wants(c) {
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	})
	defer cancel()
	watching := map[kinds.Ref]context.CancelFunc{}
	for first := true; ; first = false {
		if o.watchInvolved(ctx, watching, poke) && !first {
			poke() // a source gone or added changes the section now
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// watchInvolved starts a watch for each object whose events the page shows
// now and stops those of objects it no longer shows; it tells whether the
// set changed.
func (o *objectLive) watchInvolved(ctx context.Context, watching map[kinds.Ref]context.CancelFunc, poke func()) bool {
	want := map[kinds.Ref]bool{}
	obj := o.k.New()
	if err := o.s.store.Get(ctx, o.key, obj); err == nil {
		allowed := map[string]bool{}
		for _, ref := range eventsource.Involved(o.k, obj) {
			ok, checked := allowed[ref.Namespace]
			if !checked {
				ok = o.s.mayListEvents(ctx, &eventsData{}, ref.Namespace)
				allowed[ref.Namespace] = ok
			}
			if ok {
				want[ref] = true
			}
		}
	}
	changed := false
	for ref, stop := range watching {
		if !want[ref] {
			stop()
			delete(watching, ref)
			changed = true
		}
	}
	for ref := range want {
		if _, on := watching[ref]; !on {
			wctx, stop := context.WithCancel(ctx)
			watching[ref] = stop
			go o.s.watchEvents(wctx, ref, poke)
			changed = true
		}
	}
	return changed
}

// renderSide sends the Events section as the page renders it, as the
// event "events" that the section's sse-swap takes. An object that is gone
// or hidden now sends nothing: the state fragment says it is deleted.
func (o *objectLive) renderSide(ctx context.Context, w *eventWriter) error {
	obj := o.k.New()
	if err := o.s.store.Get(ctx, o.key, obj); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return nil
		}
		return fmt.Errorf("read %s %s for its events: %w", o.k.Kind, o.key, err)
	}
	d := o.s.eventsSection(ctx, o.k, obj)
	if d == nil {
		return nil
	}
	frag, err := o.s.fragment("object", "events", d)
	if err != nil {
		return err
	}
	return w.event("events", frag)
}

// watchEvents pokes on every event about ref until ctx ends. A watch that
// fails or ends is started again, after a backoff when it failed (doubling
// while it keeps failing: one that fails after its first events must not
// re-render the section every second) or delivered nothing; the stream
// stays open meanwhile, and the first
// events of the new watch (the existing ones, as Added) re-render the
// section, so nothing missed in between stays missing. A Forbidden answer
// (flux ui: the user may not watch events there) ends the watching.
func (s *server) watchEvents(ctx context.Context, ref kinds.Ref, poke func()) {
	delay := eventsRetryFirst
	for {
		started := time.Now()
		w, err := s.eventSource.Watch(ctx, ref)
		delivered := false
		if err == nil {
			delivered, err = drainEvents(ctx, w, poke)
		}
		if ctx.Err() != nil {
			return
		}
		if apierrors.IsForbidden(err) {
			s.log.Info("not watching events: forbidden", "kind", ref.Kind, "namespace", ref.Namespace, "name", ref.Name, "error", err)
			return
		}
		if time.Since(started) > eventsRetryMax {
			delay = eventsRetryFirst // it worked for a while: not the same failure
		}
		switch {
		case err == nil && delivered:
			delay = eventsRetryFirst
			continue // the API server ended a watch that worked: again at once
		case err == nil:
			// Ended with nothing sent (the API server's timeout on an
			// object without events, or a reader that ends at once): no
			// failure, but not again at once either.
			s.log.Debug("events watch ended; starting it again", "kind", ref.Kind, "namespace", ref.Namespace, "name", ref.Name)
		default:
			s.log.Warn("events watch failed; starting it again", "kind", ref.Kind, "namespace", ref.Namespace,
				"name", ref.Name, "retry", delay, "error", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err != nil {
			delay = min(2*delay, eventsRetryMax)
		}
	}
}

// drainEvents pokes for each event of w until it ends, fails or ctx ends;
// it tells whether any came.
func drainEvents(ctx context.Context, w watch.Interface, poke func()) (bool, error) {
	defer w.Stop()
	delivered := false
	for {
		select {
		case <-ctx.Done():
			return delivered, nil
		case ev, open := <-w.ResultChan():
			if !open {
				return delivered, nil
			}
			switch ev.Type {
			case watch.Error:
				return delivered, apierrors.FromObject(ev.Object)
			case watch.Bookmark:
			default:
				delivered = true
				poke()
			}
		}
	}
}
