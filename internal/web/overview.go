package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/driftless/driftless/internal/kinds"
)

// filter is the overview's view, all in the URL query so that a link
// reproduces it: q (free text over name, namespace and message), kind,
// namespace and status (one of statusFilters).
type filter struct{ Q, Kind, Namespace, Status string }

func parseFilter(q url.Values) filter {
	return filter{
		Q:         strings.TrimSpace(q.Get("q")),
		Kind:      q.Get("kind"),
		Namespace: q.Get("namespace"),
		Status:    q.Get("status"),
	}
}

// statusFilters are the status filter's values and labels, in menu order.
var statusFilters = []option{
	{Value: "attention", Label: "Needs attention"},
	{Value: "not-ready", Label: "Not ready"},
	{Value: "reconciling", Label: "Reconciling"},
	{Value: "suspended", Label: "Suspended"},
	{Value: "ready", Label: "Ready"},
}

// matches tells whether v is in the filtered view.
func (f filter) matches(v view) bool {
	if f.Kind != "" && f.Kind != v.Kind.Kind {
		return false
	}
	if f.Namespace != "" && f.Namespace != v.Namespace {
		return false
	}
	if f.Q != "" {
		q := strings.ToLower(f.Q)
		if !strings.Contains(strings.ToLower(v.Name), q) && !strings.Contains(strings.ToLower(v.Namespace), q) &&
			!strings.Contains(strings.ToLower(v.Message), q) {
			return false
		}
	}
	switch f.Status {
	case "":
		return true
	case "attention":
		return len(v.Attention) > 0
	case "not-ready":
		return notReady(v.State)
	case "reconciling":
		return v.State == stateReconciling
	case "suspended":
		return v.State == stateSuspended
	case "ready":
		return v.State == stateReady
	}
	return false
}

// notReady is every state a card counts as Not ready.
func notReady(s state) bool {
	return s == stateStalled || s == stateNotReady || s == stateNoStatus || s == stateUnknown
}

// option is one entry of a filter's menu.
type option struct {
	Value, Label string
	Selected     bool
}

// card is one kind's counts.
type card struct {
	Kind, Link                                   string
	Total, Ready, NotReady, Reconciling, Suspend int
}

type overviewData struct {
	Cards []card
	// Attention and Rows point into one slice of views: a build of 1,000
	// objects is held by every stream it is shared with, so it is made
	// once, of the right size.
	Attention  []*view
	Rows       []*view
	Total      int
	Filter     filter
	Kinds      []option
	Namespaces []option
	Statuses   []option
	// Failed are the kinds that could not be listed, with why.
	Failed []string
	// Lookup is the "who manages this?" form and answer (lookup.go),
	// nil without Options.Objects.
	Lookup *lookupData
}

func (s *server) overview(w http.ResponseWriter, r *http.Request) {
	f := parseFilter(r.URL.Query())
	// Pages opened together (a team's tabs, a dashboard's reloads) share
	// one build that started after they were asked for. d is a copy:
	// setting its Lookup leaves the shared build as it was.
	d := s.builds.overview(r.Context(), s, f, time.Now())
	d.Lookup = s.lookup(r.Context(), r.URL.Query())
	live := s.live(r)
	live.Events = withQuery(live.Events, queryRendered, rowsVersion(d))
	s.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Body: d, Live: live})
}

// rowsVersion names the state of the overview's rows: each row's object
// and resourceVersion, in order. The stream compares it with what it
// reads as it opens, to send the rows at once when they moved on.
func rowsVersion(d overviewData) string {
	h := sha256.New()
	for _, v := range d.Rows {
		fmt.Fprintf(h, "%s=%s;", v.ID(), v.Obj.GetResourceVersion())
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func (s *server) overviewData(ctx context.Context, f filter) overviewData {
	now := s.now()
	d := overviewData{Filter: f}
	namespaces := map[string]bool{}
	lists := make([][]kinds.Object, len(kinds.All()))
	total := 0
	for i, k := range kinds.All() {
		objs, err := s.store.List(ctx, k, "")
		if err != nil {
			s.log.Error("list", "kind", k.Kind, "error", err)
			d.Failed = append(d.Failed, k.Kind+": cannot list: "+err.Error())
			continue
		}
		d.Kinds = append(d.Kinds, option{Value: k.Kind, Label: k.Kind, Selected: f.Kind == k.Kind})
		lists[i], total = objs, total+len(objs)
	}
	all := make([]view, 0, total)
	for i, k := range kinds.All() {
		objs := lists[i]
		if len(objs) == 0 {
			continue
		}
		c := card{Kind: k.Kind, Link: "/?kind=" + url.QueryEscape(k.Kind), Total: len(objs)}
		for _, o := range objs {
			v := newView(ctx, s.store.Get, k, o, now)
			namespaces[v.Namespace] = true
			switch {
			case v.State == stateReady:
				c.Ready++
			case v.State == stateReconciling:
				c.Reconciling++
			case v.State == stateSuspended:
				c.Suspend++
			default:
				c.NotReady++
			}
			all = append(all, v)
		}
		d.Cards = append(d.Cards, c)
	}
	d.Total = len(all)
	// Failures first; within a state, the catalogue's order, then by key.
	order := map[string]int{}
	for i, k := range kinds.All() {
		order[k.Kind] = i
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.State != b.State {
			return a.State < b.State
		}
		if a.Kind.Kind != b.Kind.Kind {
			return order[a.Kind.Kind] < order[b.Kind.Kind]
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	d.Rows = make([]*view, 0, len(all))
	for i := range all {
		v := &all[i]
		if len(v.Attention) > 0 {
			d.Attention = append(d.Attention, v)
		}
		if f.matches(*v) {
			d.Rows = append(d.Rows, v)
		}
	}
	ns := make([]string, 0, len(namespaces))
	for n := range namespaces {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	for _, n := range ns {
		d.Namespaces = append(d.Namespaces, option{Value: n, Label: n, Selected: f.Namespace == n})
	}
	for _, o := range statusFilters {
		o.Selected = f.Status == o.Value
		d.Statuses = append(d.Statuses, o)
	}
	return d
}
