package graph

import "sort"

// edgePriority orders edges for breaking cycles: a source edge is kept in
// the layering before a dependsOn edge, and both before an appliedBy one,
// so that a source always comes before its consumers even when the
// Kustomization reading it also applied it (bootstrap's flux-system).
func edgePriority(t EdgeType) int {
	switch t {
	case EdgeSource:
		return 0
	case EdgeDependsOn:
		return 1
	}
	return 2
}

// assignLayers sets each node's Layer: one after the latest of the nodes
// its kept edges come from (longest path), sources and roots in layer 0.
// Cycles are broken for layering only: edges are taken in a fixed order
// (priority, then the ends' stable keys) and an edge that would close a
// cycle among those already taken is left out. It returns the edges kept.
func assignLayers(g *Graph) map[*Edge]bool {
	order := make([]*Edge, 0, len(g.Edges))
	for _, e := range g.Edges {
		if e.From != e.To {
			order = append(order, e)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if pa, pb := edgePriority(a.Type), edgePriority(b.Type); pa != pb {
			return pa < pb
		}
		if ka, kb := g.byID[a.From].sortKey(), g.byID[b.From].sortKey(); ka != kb {
			return ka < kb
		}
		return g.byID[a.To].sortKey() < g.byID[b.To].sortKey()
	})
	succ := map[string][]string{}
	kept := map[*Edge]bool{}
	for _, e := range order {
		if reaches(succ, e.To, e.From) {
			continue
		}
		succ[e.From] = append(succ[e.From], e.To)
		kept[e] = true
	}
	// Longest path over the DAG of kept edges, in topological order.
	indeg := map[string]int{}
	for _, targets := range succ {
		for _, t := range targets {
			indeg[t]++
		}
	}
	var queue []string
	for _, n := range g.Nodes {
		n.Layer = 0
		if indeg[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, t := range succ[id] {
			if l := g.byID[id].Layer + 1; l > g.byID[t].Layer {
				g.byID[t].Layer = l
			}
			if indeg[t]--; indeg[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	return kept
}

// reaches is true when to can be reached from from along succ.
func reaches(succ map[string][]string, from, to string) bool {
	if from == to {
		return true
	}
	seen := map[string]bool{from: true}
	stack := []string{from}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range succ[cur] {
			if n == to {
				return true
			}
			if !seen[n] {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	return false
}
