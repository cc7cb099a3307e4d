package web

// The live views of the overview and of an object page: what each stream
// reads as it opens, which changes concern it, and the fragments it sends
// (stream.go runs them; the graph page's is in graphpage.go).

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/kinds"
)

// overviewLive streams the overview under its filter. It keeps the rows
// the client shows: a change that keeps them in place swaps the row, one
// that adds, removes or moves a row swaps the table body.
type overviewLive struct {
	s    *server
	f    filter
	rows []string // row ids, in order; nil before the first render
	// rendered is rowsVersion of the page as drawn ("" when the stream
	// URL has none); stale is set when the rows moved on before the
	// stream opened, and sends them all.
	rendered string
	stale    bool
	summary  string // the summary fragment last sent
}

func (o *overviewLive) wants(Change) bool { return true }

// start reads the rows the client shows; when they moved on between the
// page's render and the stream's subscription, it sends them at once.
func (o *overviewLive) start(ctx context.Context, poke func()) {
	// Any build started after the subscription holds every change the
	// stream has not heard of; streams opened together share one.
	d := o.s.builds.overview(ctx, o.s, o.f, time.Now())
	o.rows = o.ids(d)
	if o.rendered != "" && rowsVersion(d) != o.rendered {
		o.stale = true
		poke()
	}
}

func (o *overviewLive) ids(d overviewData) []string {
	ids := make([]string, len(d.Rows))
	for i, v := range d.Rows {
		ids[i] = v.ID()
	}
	return ids
}

func (o *overviewLive) render(ctx context.Context, w *eventWriter, changed map[string]Change, newest time.Time) error {
	d := o.s.builds.overview(ctx, o.s, o.f, newest)
	ids := o.ids(d)
	send := func(event, tmpl string, data any) error {
		frag, err := o.s.fragment("overview", tmpl, data)
		if err != nil {
			return err
		}
		return w.event(event, frag)
	}
	// The summary (the cards, needs attention) is sent when it changed.
	summary, err := o.s.fragment("overview", "summary", d)
	if err != nil {
		return err
	}
	if summary != o.summary {
		o.summary = summary
		if err := w.event("summary", summary); err != nil {
			return err
		}
	}
	// Rows that only change places stay where the reader sees them: a
	// change wave moves objects in and out of "failures first" many times
	// a second, and sending the whole table for each move (800 KiB at
	// 1,000 objects) cost more than the wave itself. The table is sent
	// again when rows come or go; a reload sorts it afresh.
	if o.stale || !sameSet(ids, o.rows) {
		o.rows, o.stale = ids, false
		if err := send("count", "count", d); err != nil {
			return err
		}
		return send("rows", "rows", d)
	}
	for _, v := range d.Rows {
		if _, ok := changed[v.key]; ok {
			if err := send(v.ID(), "row", v); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameSet tells whether a and b hold the same ids, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, id := range a {
		seen[id]++
	}
	for _, id := range b {
		if seen[id] == 0 {
			return false
		}
		seen[id]--
	}
	return true
}

// objectLive streams one object's page: its state and conditions.
type objectLive struct {
	s   *server
	k   kinds.Kind
	key types.NamespacedName
	// query is the page's, which names the request it follows.
	query url.Values
	// rendered is the resourceVersion the page was drawn from.
	rendered string
}

// queryRendered is the stream URL's parameter that carries the
// resourceVersion an object page was drawn from.
const queryRendered = "rendered"

// withQuery is u with the query parameter name=value added.
func withQuery(u, name, value string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(name) + "=" + url.QueryEscape(value)
}

// start renders the page's fragments once as the stream opens if the
// object changed since the page was drawn: a change between the page's
// render and the stream's subscription (a controller handling the request
// an action just made, within milliseconds) would otherwise never reach
// the page. An unchanged object sends nothing, so no swap replaces a
// button under the reader's pointer. It renders them once more when the
// request the page follows times out, since nothing in the object changes
// then.
func (o *objectLive) start(ctx context.Context, poke func()) {
	obj := o.k.New()
	if o.s.store.Get(ctx, o.key, obj) != nil {
		return // gone, or not the viewer's to see: nothing to say
	}
	if obj.GetResourceVersion() != o.rendered {
		poke()
	}
	if until, ok := o.s.pendingUntil(o.k, obj, o.query); ok {
		t := time.AfterFunc(until.Sub(o.s.now())+50*time.Millisecond, poke)
		context.AfterFunc(ctx, func() { t.Stop() })
	}
}

func (o *objectLive) wants(c Change) bool {
	return c.Kind.Group == o.k.Group && c.Kind.Kind == o.k.Kind &&
		c.Object.GetNamespace() == o.key.Namespace && c.Object.GetName() == o.key.Name
}

func (o *objectLive) render(ctx context.Context, w *eventWriter, _ map[string]Change, _ time.Time) error {
	obj := o.k.New()
	var d objectData
	switch err := o.s.store.Get(ctx, o.key, obj); {
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
		d.Deleted = true
	case err != nil:
		return fmt.Errorf("read %s %s: %w", o.k.Kind, o.key, err)
	default:
		d = o.s.objectData(ctx, o.k, obj)
		d.Actions = o.s.actions(ctx, o.k, obj, o.query)
	}
	for _, name := range []string{"state", "conditions"} {
		if d.Deleted && name == "conditions" {
			continue
		}
		frag, err := o.s.fragment("object", name, d)
		if err != nil {
			return err
		}
		if err := w.event(name, frag); err != nil {
			return err
		}
	}
	return nil
}
