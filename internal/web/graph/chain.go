package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/driftless/driftless/internal/kinds"
)

// Chain is one object's dependsOn chain, what its object page shows: the
// objects it waits for (upstream) and those that wait for it (downstream),
// transitively, each once, nearest first. It is the graph scoped around
// the object and filtered to dependsOn edges, without the node limit or a
// layout: a page about one object must not fail because the fleet is
// large.
type Chain struct {
	// Node is the object itself.
	Node *Node
	// Upstream and Downstream are the linked objects; a missing
	// dependency is a node marked Missing.
	Upstream, Downstream []Link
	// Cycles are the dependency cycles through the object, named as the
	// controller names them.
	Cycles []string
}

// Link is one node of a chain, Depth dependsOn edges away from the
// object (1: named in, or naming, the object's dependsOn), and Via the
// node it was reached from (the object itself at depth 1).
type Link struct {
	Node  *Node
	Depth int
	Via   *Node
}

// DependsOn is the chain of the node id (see ID) among objects. It fails
// as Build does on bad objects, and when id is no node of the graph.
func DependsOn(objects []kinds.Object, id string) (*Chain, error) {
	g, err := assemble(objects)
	if err != nil {
		return nil, err
	}
	n := g.byID[id]
	if n == nil {
		return nil, fmt.Errorf("dependsOn chain of %s: no such object in the graph", id)
	}
	up := map[string][]string{}   // dependent -> its dependencies
	down := map[string][]string{} // dependency -> its dependents
	for _, e := range g.Edges {
		if e.Type == EdgeDependsOn {
			up[e.To] = append(up[e.To], e.From)
			down[e.From] = append(down[e.From], e.To)
		}
	}
	c := &Chain{Node: n, Upstream: g.walk(id, up), Downstream: g.walk(id, down)}
	for _, name := range g.Cycles {
		for _, k := range strings.Split(name, " -> ") {
			if k == n.key() && g.onCycle(id) {
				c.Cycles = append(c.Cycles, name)
				break
			}
		}
	}
	return c, nil
}

// onCycle is true when a dependsOn edge of id is marked as on a cycle.
func (g *Graph) onCycle(id string) bool {
	for _, e := range g.Edges {
		if e.Cycle && (e.From == id || e.To == id) {
			return true
		}
	}
	return false
}

// walk visits next from id breadth first, each node once, in the graph's
// node order within a depth; id itself is never a link (a cycle names it).
func (g *Graph) walk(id string, next map[string][]string) []Link {
	seen := map[string]bool{id: true}
	var out []Link
	frontier := []string{id}
	for depth := 1; len(frontier) > 0; depth++ {
		var layer []Link
		for _, cur := range frontier {
			for _, n := range next[cur] {
				if !seen[n] {
					seen[n] = true
					layer = append(layer, Link{Node: g.byID[n], Depth: depth, Via: g.byID[cur]})
				}
			}
		}
		sort.SliceStable(layer, func(i, j int) bool { return layer[i].Node.sortKey() < layer[j].Node.sortKey() })
		frontier = frontier[:0]
		for _, l := range layer {
			frontier = append(frontier, l.Node.ID)
		}
		out = append(out, layer...)
	}
	return out
}
