package graph

import (
	"sort"
	"strings"
)

// findCycles names every dependsOn cycle of g and marks its edges. The
// cycles are the strongly connected components of the dependsOn graph (an
// edge lies on a cycle exactly when both ends share a component); each is
// named by the controller's own walk (internal/controller/dependency,
// findCycle) started from its smallest member, so the name reads
// "ns/a -> ns/b -> ns/a" as that member's Ready message would.
func findCycles(g *Graph) []string {
	comp := components(g)
	var names []string
	members := map[int][]string{}
	for id, c := range comp {
		members[c] = append(members[c], id)
	}
	for _, ids := range members {
		if len(ids) == 1 && !dependsOnItself(g, ids[0]) {
			continue
		}
		sort.Slice(ids, func(i, j int) bool { return g.byID[ids[i]].key() < g.byID[ids[j]].key() })
		names = append(names, g.cycleName(ids[0]))
	}
	for _, e := range g.Edges {
		if e.Type == EdgeDependsOn {
			c, ok := comp[e.From]
			e.Cycle = ok && c == comp[e.To] && (len(members[c]) > 1 || e.From == e.To)
		}
	}
	sort.Strings(names)
	return names
}

// key is how the controller names a node in a cycle: namespace/name.
func (n *Node) key() string { return n.Namespace + "/" + n.Name }

func dependsOnItself(g *Graph, id string) bool {
	for _, d := range g.deps[id] {
		if d == id {
			return true
		}
	}
	return false
}

// cycleName walks dependsOn entries from start, depth first in spec order
// and visiting each object once, as the controller does, and names the
// first path back to start.
func (g *Graph) cycleName(start string) string {
	visited := map[string]bool{}
	var path []string
	var walk func(id string) bool
	walk = func(id string) bool {
		path = append(path, g.byID[id].key())
		for _, next := range g.deps[id] {
			if next == start {
				path = append(path, g.byID[next].key())
				return true
			}
			if visited[next] {
				continue
			}
			visited[next] = true
			if walk(next) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if !walk(start) {
		return ""
	}
	return strings.Join(path, " -> ")
}

// components numbers the strongly connected components of the dependsOn
// graph (Tarjan), over the nodes in their stable order.
func components(g *Graph) map[string]int {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	comp := map[string]int{}
	var stack []string
	next, count := 0, 0
	var visit func(id string)
	visit = func(id string) {
		index[id], low[id] = next, next
		next++
		stack = append(stack, id)
		onStack[id] = true
		for _, d := range g.deps[id] {
			if _, seen := index[d]; !seen {
				visit(d)
				low[id] = min(low[id], low[d])
			} else if onStack[d] {
				low[id] = min(low[id], index[d])
			}
		}
		if low[id] == index[id] {
			for {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[top] = false
				comp[top] = count
				if top == id {
					break
				}
			}
			count++
		}
	}
	for _, n := range g.Nodes {
		if _, seen := index[n.ID]; !seen {
			visit(n.ID)
		}
	}
	return comp
}
