package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/graph"
)

// graphData is the /graph page: the scope forms, then the drawing (or
// why there is none), its cycles and its dangling references.
type graphData struct {
	Namespace, Around string
	Namespaces        []option
	Objects           []option
	// SVG is the drawing, made and escaped by the graph package; empty
	// when there is none.
	SVG template.HTML
	// TooLarge, when set, says how large the graph is: the page asks for
	// a scope instead of drawing.
	TooLarge string
	// Problem is a scope that cannot be drawn, in words.
	Problem  string
	Nodes    int
	Cycles   []string
	Missing  []missingRef
	Failed   []string
	JSONLink string
}

// missingRef is a node no object stands for, and who refers to it.
type missingRef struct {
	Kind, Namespace, Name string
	By                    []graphLink
}

type graphLink struct{ Label, Href string }

// listAll lists every object of every catalogue kind the viewer may see;
// the kinds that cannot be listed are returned, with why, in failed.
func (s *server) listAll(ctx context.Context) (objs []kinds.Object, failed []string) {
	for _, k := range kinds.All() {
		l, err := s.store.List(ctx, k, "")
		if err != nil {
			s.log.Error("list", "kind", k.Kind, "error", err)
			failed = append(failed, k.Kind+": cannot list: "+err.Error())
			continue
		}
		objs = append(objs, l...)
	}
	return objs, failed
}

// graphScope reads ?namespace= and ?around= (group/kind/namespace/name).
func graphScope(q url.Values) graph.Scope {
	return graph.Scope{Namespace: q.Get("namespace"), Around: q.Get("around")}
}

// buildGraph builds the scoped graph and says, with an HTTP status, why
// it could not: 400 for both scopes at once, 404 for an object not there
// (or not visible: the same answer), 422 for a graph too large to draw.
func (s *server) buildGraph(ctx context.Context, scope graph.Scope) (*graph.Graph, []kinds.Object, []string, int, error) {
	objs, failed := s.listAll(ctx)
	if scope.Namespace != "" && scope.Around != "" {
		return nil, objs, failed, http.StatusBadRequest, errors.New("choose a namespace or an object to draw around, not both")
	}
	g, err := graph.Build(objs, scope)
	var tooLarge *graph.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, objs, failed, http.StatusUnprocessableEntity, err
	case err != nil && scope.Around != "":
		return nil, objs, failed, http.StatusNotFound, fmt.Errorf("%s is not found or not visible to you", scope.Around)
	case err != nil:
		s.log.Error("build graph", "error", err)
		return nil, objs, failed, http.StatusInternalServerError, errors.New("cannot draw the graph")
	}
	return g, objs, failed, http.StatusOK, nil
}

func (s *server) graphPage(w http.ResponseWriter, r *http.Request) {
	scope := graphScope(r.URL.Query())
	d, code := s.graphPageData(r.Context(), scope, r.URL.RawQuery)
	title := "Graph"
	switch {
	case scope.Namespace != "":
		title += " of namespace " + scope.Namespace
	case scope.Around != "":
		title += " around " + scope.Around
	}
	s.render(w, r, code, "graph", page{Title: title, Body: d, Live: s.live(r)})
}

// graphPageData is what the graph page shows for scope, and its status;
// the live stream renders the drawing from the same data.
func (s *server) graphPageData(ctx context.Context, scope graph.Scope, rawQuery string) (graphData, int) {
	g, objs, failed, code, err := s.buildGraph(ctx, scope)
	d := graphData{Namespace: scope.Namespace, Around: scope.Around, Failed: failed, JSONLink: "/graph.json"}
	if rawQuery != "" {
		d.JSONLink += "?" + rawQuery
	}
	d.Namespaces, d.Objects = scopeOptions(objs, scope)
	var tooLarge *graph.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		d.TooLarge = fmt.Sprintf("This graph has %s, more than the %d that can be drawn readably. "+
			"Choose a namespace, or an object to draw everything connected to it.", objectCount(tooLarge.Nodes), graph.MaxNodes)
	case err != nil:
		d.Problem = err.Error()
	default:
		d.SVG = template.HTML(g.SVG()) // #nosec G203 -- the graph package escapes every text and writes no style or script
		d.Nodes = len(g.Nodes)
		d.Cycles = g.Cycles
		d.Missing = missingRefs(g)
	}
	return d, code
}

// graphLive streams the graph page: a change to any object the drawing
// may show draws it again, and the drawing is sent when it differs from
// the one the page shows. The layout is deterministic, so a node whose
// status changed is redrawn in place; a structural change moves what it
// must.
type graphLive struct {
	s     *server
	scope graph.Scope
	last  string // the drawing the client shows
}

func (g *graphLive) wants(Change) bool { return true }

func (g *graphLive) start(ctx context.Context, _ func()) {
	d, _ := g.s.graphPageData(ctx, g.scope, "")
	g.last, _ = g.s.fragment("graph", "drawing", d)
}

func (g *graphLive) render(ctx context.Context, w *eventWriter, _ map[string]Change, _ time.Time) error {
	d, _ := g.s.graphPageData(ctx, g.scope, "")
	frag, err := g.s.fragment("graph", "drawing", d)
	if err != nil || frag == g.last {
		return err
	}
	g.last = frag
	return w.event("drawing", frag)
}

func (s *server) graphJSON(w http.ResponseWriter, r *http.Request) {
	g, _, _, code, err := s.buildGraph(r.Context(), graphScope(r.URL.Query()))
	var body []byte
	if err == nil {
		body, err = g.JSON()
		if err != nil {
			s.log.Error("graph json", "error", err)
			code, err = http.StatusInternalServerError, errors.New("cannot write the graph")
		}
	}
	if err != nil {
		e := struct {
			Error    string `json:"error"`
			Nodes    int    `json:"nodes,omitempty"`
			MaxNodes int    `json:"maxNodes,omitempty"`
		}{Error: err.Error()}
		var tooLarge *graph.TooLargeError
		if errors.As(err, &tooLarge) {
			e.Nodes, e.MaxNodes = tooLarge.Nodes, graph.MaxNodes
		}
		body, _ = json.Marshal(e)
		body = append(body, '\n')
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// objectCount writes n objects in words: "1 object", "1,234 objects".
func objectCount(n int) string {
	if n == 1 {
		return "1 object"
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " objects"
}

// scopeOptions are the menus of the scope forms: every namespace, and
// every object to draw around.
func scopeOptions(objs []kinds.Object, scope graph.Scope) (namespaces, objects []option) {
	seen := map[string]bool{}
	for _, o := range objs {
		k, ok := kinds.Of(o)
		if !ok {
			continue
		}
		if ns := o.GetNamespace(); !seen[ns] {
			seen[ns] = true
			namespaces = append(namespaces, option{Value: ns, Label: ns, Selected: ns == scope.Namespace})
		}
		id := graph.ID(k.Group, k.Kind, o.GetNamespace(), o.GetName())
		objects = append(objects, option{Value: id, Label: k.Kind + " " + o.GetNamespace() + "/" + o.GetName(), Selected: id == scope.Around})
	}
	sort.Slice(namespaces, func(i, j int) bool { return namespaces[i].Value < namespaces[j].Value })
	sort.Slice(objects, func(i, j int) bool { return objects[i].Label < objects[j].Label })
	return namespaces, objects
}

// missingRefs are g's missing nodes with the objects that name them.
func missingRefs(g *graph.Graph) []missingRef {
	var out []missingRef
	for _, n := range g.Nodes {
		if !n.Missing {
			continue
		}
		m := missingRef{Kind: n.Kind, Namespace: n.Namespace, Name: n.Name}
		for _, e := range g.Edges {
			if e.From == n.ID {
				by := g.Node(e.To)
				m.By = append(m.By, graphLink{Label: by.Kind + " " + by.Namespace + "/" + by.Name, Href: by.Href()})
			}
		}
		out = append(out, m)
	}
	return out
}
