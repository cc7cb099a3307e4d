package graph

import (
	"fmt"
	"sort"
	"strings"
)

// Scope limits what Build draws. The zero Scope is everything.
type Scope struct {
	// Namespace, when set, keeps the nodes of that namespace and the nodes
	// they refer to directly (their sources, dependencies and the object
	// that applied them), the latter marked Outside.
	Namespace string
	// Around, when set, is the ID of a node (see ID): Build keeps
	// everything connected to it, whatever the edges' direction.
	Around string
}

// scope is the part of g that s keeps: the nodes, the edges between two
// kept nodes, and the cycles through a kept node.
func (g *Graph) scope(s Scope) (*Graph, error) {
	if s.Namespace != "" && s.Around != "" {
		return nil, fmt.Errorf("scope by namespace %q and around %q at once: choose one", s.Namespace, s.Around)
	}
	keep := map[string]bool{}
	switch {
	case s.Namespace != "":
		for _, n := range g.Nodes {
			if n.Namespace == s.Namespace {
				keep[n.ID] = true
			}
		}
		// Every reference is held by the edge's downstream end.
		for _, e := range g.Edges {
			if g.byID[e.To].Namespace == s.Namespace && !keep[e.From] {
				keep[e.From] = true
				g.byID[e.From].Outside = true
			}
		}
	case s.Around != "":
		if g.byID[s.Around] == nil {
			return nil, fmt.Errorf("scope around %s: no such object in the graph", s.Around)
		}
		keep = g.component(s.Around)
	default:
		return g, nil
	}
	out := &Graph{byID: map[string]*Node{}, deps: g.deps}
	for _, n := range g.Nodes {
		if keep[n.ID] {
			out.Nodes = append(out.Nodes, n)
			out.byID[n.ID] = n
		}
	}
	for _, e := range g.Edges {
		if keep[e.From] && keep[e.To] {
			out.Edges = append(out.Edges, e)
		}
	}
	for _, c := range g.Cycles {
		if cycleKept(c, out) {
			out.Cycles = append(out.Cycles, c)
		}
	}
	return out, nil
}

// cycleKept is true when a node of the named cycle is in g (a cycle names
// nodes by namespace/name only).
func cycleKept(cycle string, g *Graph) bool {
	keys := map[string]bool{}
	for _, k := range strings.Split(cycle, " -> ") {
		keys[k] = true
	}
	for _, e := range g.Edges {
		if e.Cycle && (keys[g.byID[e.From].key()] || keys[g.byID[e.To].key()]) {
			return true
		}
	}
	return false
}

// component is the weakly connected component of id: every node reached
// along edges taken either way.
func (g *Graph) component(id string) map[string]bool {
	adj := map[string][]string{}
	for _, e := range g.Edges {
		adj[e.From] = append(adj[e.From], e.To)
		adj[e.To] = append(adj[e.To], e.From)
	}
	seen := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		next := adj[cur]
		sort.Strings(next)
		for _, n := range next {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return seen
}
