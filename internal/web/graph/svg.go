package graph

import (
	"bytes"
	"fmt"
	"html"
	"strings"
)

// stateClass is the class a state is styled by, and icon the glyph that
// shows it beside its word: never colour alone.
var stateStyle = map[State]struct{ class, icon string }{
	StateReady:       {"ready", "✓"},
	StateNotReady:    {"failed", "✗"},
	StateReconciling: {"reconciling", "↻"},
	StateStalled:     {"stalled", "⚠"},
	StateSuspended:   {"suspended", "‖"},
	StateUnknown:     {"unknown", "?"},
}

// maxLabel is how many characters of a name a node shows; the whole name
// is in its title.
const maxLabel = 28

// SVG is the graph as inline SVG for an HTML page under a strict
// Content-Security-Policy: presentation through class attributes only (no
// style attribute or element, no script, no event attribute), every text
// escaped. Classes: "node" with the state's ("ready", "failed",
// "reconciling", "stalled", "suspended", "unknown") and "missing" or
// "outside"; "edge" with the edge type's and "cycle".
func (g *Graph) SVG() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`+"\n",
		g.Width, g.Height, g.Width, g.Height, esc(g.label()))
	b.WriteString("<defs>\n")
	for _, t := range []EdgeType{EdgeSource, EdgeDependsOn, EdgeAppliedBy} {
		fmt.Fprintf(&b, `<marker id="graph-arrow-%s" class="arrow %s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"/></marker>`+"\n", t, t)
	}
	b.WriteString(`<marker id="graph-arrow-cycle" class="arrow cycle" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"/></marker>` + "\n")
	b.WriteString("</defs>\n")
	if len(g.Cycles) > 0 {
		b.WriteString(`<g class="cycles">`)
		for _, c := range g.Cycles {
			fmt.Fprintf(&b, `<desc class="cycle">dependency cycle: %s</desc>`, esc(c))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString(`<g class="edges">` + "\n")
	for _, e := range g.Edges {
		g.writeEdge(&b, e)
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g class="nodes">` + "\n")
	for _, n := range g.Nodes {
		writeNode(&b, n)
	}
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}

// label is the SVG's accessible name.
func (g *Graph) label() string {
	s := "Dependency graph: " + count(len(g.Nodes), "object") + ", " + count(len(g.Edges), "edge")
	if len(g.Cycles) > 0 {
		s += ", " + count(len(g.Cycles), "dependency cycle")
	}
	return s
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (g *Graph) writeEdge(b *bytes.Buffer, e *Edge) {
	class, marker := "edge "+string(e.Type), string(e.Type)
	if e.Cycle {
		class, marker = class+" cycle", "cycle"
	}
	from, to := g.byID[e.From], g.byID[e.To]
	fmt.Fprintf(b, `<path class="%s" d="%s" marker-end="url(#graph-arrow-%s)"><title>%s</title></path>`+"\n",
		class, pathData(e.points), marker, esc(fmt.Sprintf("%s/%s %s %s/%s", from.Kind, from.Name, edgeVerb(e.Type), to.Kind, to.Name)))
}

// edgeVerb reads an edge from its From end to its To end.
func edgeVerb(t EdgeType) string {
	switch t {
	case EdgeSource:
		return "is the source of"
	case EdgeDependsOn:
		return "is a dependency of"
	}
	return "applied"
}

// pathData joins the points with curves that leave and enter each point
// horizontally, so an edge flows left to right across the layers.
func pathData(pts []point) string {
	if len(pts) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "M%d %d", pts[0].X, pts[0].Y)
	for i := 1; i < len(pts); i++ {
		p, q := pts[i-1], pts[i]
		if p.Y == q.Y {
			fmt.Fprintf(&b, "L%d %d", q.X, q.Y)
			continue
		}
		mx := (p.X + q.X) / 2
		if p.X == q.X {
			mx = p.X
		}
		fmt.Fprintf(&b, "C%d %d %d %d %d %d", mx, p.Y, mx, q.Y, q.X, q.Y)
	}
	return b.String()
}

func writeNode(b *bytes.Buffer, n *Node) {
	st := stateStyle[n.State]
	class, word := "node "+st.class, string(n.State)
	if n.Missing {
		class, word, st.icon = "node missing", "Missing", "∅"
	}
	if n.Outside {
		class += " outside"
	}
	title := n.Kind + " " + n.Namespace + "/" + n.Name + ": " + word
	if n.Reason != "" {
		title += " (" + n.Reason + ")"
	}
	fmt.Fprintf(b, `<a class="%s" href="%s"><title>%s</title>`, class, esc(n.Href()), esc(title))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6"/>`, n.X, n.Y, nodeW, nodeH)
	fmt.Fprintf(b, `<text class="kind" x="%d" y="%d">%s</text>`, n.X+10, n.Y+17, esc(clip(n.Kind+" · "+n.Namespace)))
	fmt.Fprintf(b, `<text class="name" x="%d" y="%d">%s</text>`, n.X+10, n.Y+36, esc(clip(n.Name)))
	fmt.Fprintf(b, `<text class="status" x="%d" y="%d"><tspan class="icon">%s</tspan> %s</text>`, n.X+10, n.Y+55, st.icon, esc(word))
	b.WriteString("</a>\n")
}

// clip shortens s to maxLabel characters, an ellipsis marking the cut.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }
