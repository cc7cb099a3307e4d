package graph

import (
	"fmt"
	"sort"
)

// The drawing's measures, in SVG user units. Layers are columns, left to
// right; a column stacks its nodes, and the dummies long edges pass
// through take a thin slot of their own so that edges go around nodes.
const (
	nodeW   = 220
	nodeH   = 64
	gapX    = 90
	gapY    = 24
	dummyH  = 12
	margin  = 20
	loopOut = 28
)

// sweeps is how many barycentre passes ordering makes (down and up in
// turn). A fixed number keeps the output the same however long it would
// take to settle; the best order seen is kept.
const sweeps = 12

type point struct{ X, Y int }

// vertex is a node, or a dummy on a long edge, in one layer.
type vertex struct {
	node  *Node // nil for a dummy
	key   string
	layer int
	pos   int
	y     int
}

func (v *vertex) height() int {
	if v.node == nil {
		return dummyH
	}
	return nodeH
}

// segment joins two vertices of adjacent layers, upper the one of the
// lower layer index.
type segment struct{ upper, lower *vertex }

// layout places g's nodes: layers, then order within layers, then
// coordinates and edge routes.
func layout(g *Graph) {
	assignLayers(g)
	layers, segs, routes := buildLayers(g)
	order(layers, segs)
	place(g, layers, routes)
}

// buildLayers puts each node in its layer, sorted by the stable key, and
// splits every edge spanning more than one layer with a dummy per layer
// between its ends. routes are each edge's dummies, from its From end.
func buildLayers(g *Graph) ([][]*vertex, []segment, map[*Edge][]*vertex) {
	depth := 0
	for _, n := range g.Nodes {
		depth = max(depth, n.Layer+1)
	}
	layers := make([][]*vertex, depth)
	byID := map[string]*vertex{}
	for _, n := range g.Nodes {
		v := &vertex{node: n, key: n.sortKey(), layer: n.Layer}
		byID[n.ID] = v
		layers[n.Layer] = append(layers[n.Layer], v)
	}
	var segs []segment
	routes := map[*Edge][]*vertex{}
	for i, e := range g.Edges {
		a, b := byID[e.From], byID[e.To]
		if a.layer == b.layer {
			continue
		}
		reversed := a.layer > b.layer
		if reversed {
			a, b = b, a
		}
		prev := a
		var chain []*vertex
		for l := a.layer + 1; l < b.layer; l++ {
			d := &vertex{key: fmt.Sprintf("\xff%s\x00%s\x00%06d", a.key, b.key, i), layer: l}
			layers[l] = append(layers[l], d)
			segs = append(segs, segment{prev, d})
			chain = append(chain, d)
			prev = d
		}
		segs = append(segs, segment{prev, b})
		if reversed {
			for l, r := 0, len(chain)-1; l < r; l, r = l+1, r-1 {
				chain[l], chain[r] = chain[r], chain[l]
			}
		}
		routes[e] = chain
	}
	for _, layer := range layers {
		sort.Slice(layer, func(i, j int) bool { return layer[i].key < layer[j].key })
		renumber(layer)
	}
	return layers, segs, routes
}

func renumber(layer []*vertex) {
	for i, v := range layer {
		v.pos = i
	}
}

// order reduces crossings by the barycentre method: each sweep sorts a
// layer by the mean position of its neighbours in the layer before it (the
// one after it, sweeping up), ties and vertices without neighbours there
// kept by their position then their key. The order with the fewest
// crossings seen wins, so ordering never makes the initial one worse.
func order(layers [][]*vertex, segs []segment) {
	best, bestCross := snapshot(layers), crossings(layers, segs)
	for s := 0; s < sweeps && bestCross > 0; s++ {
		down := s%2 == 0
		for k := 1; k < len(layers); k++ {
			l := k
			if !down {
				l = len(layers) - 1 - k
			}
			sortByBarycentre(layers[l], segs, down)
		}
		if c := crossings(layers, segs); c < bestCross {
			best, bestCross = snapshot(layers), c
		}
	}
	for l := range layers {
		copy(layers[l], best[l])
		renumber(layers[l])
	}
}

func sortByBarycentre(layer []*vertex, segs []segment, down bool) {
	sum := map[*vertex]int{}
	cnt := map[*vertex]int{}
	for _, s := range segs {
		v, other := s.lower, s.upper
		if !down {
			v, other = s.upper, s.lower
		}
		if v.layer == layer[0].layer {
			sum[v] += other.pos
			cnt[v]++
		}
	}
	// Compare barycentres sum/cnt exactly, as fractions.
	type bary struct{ num, den int }
	b := map[*vertex]bary{}
	for _, v := range layer {
		if cnt[v] == 0 {
			b[v] = bary{v.pos, 1}
		} else {
			b[v] = bary{sum[v], cnt[v]}
		}
	}
	sort.SliceStable(layer, func(i, j int) bool {
		x, y := b[layer[i]], b[layer[j]]
		if l, r := x.num*y.den, y.num*x.den; l != r {
			return l < r
		}
		return layer[i].key < layer[j].key
	})
	renumber(layer)
}

func snapshot(layers [][]*vertex) [][]*vertex {
	out := make([][]*vertex, len(layers))
	for i, l := range layers {
		out[i] = append([]*vertex(nil), l...)
	}
	return out
}

// crossings counts the pairs of segments between the same two layers that
// cross.
func crossings(layers [][]*vertex, segs []segment) int {
	n := 0
	for i, a := range segs {
		for _, b := range segs[i+1:] {
			if a.upper.layer != b.upper.layer {
				continue
			}
			du, dl := a.upper.pos-b.upper.pos, a.lower.pos-b.lower.pos
			if (du < 0 && dl > 0) || (du > 0 && dl < 0) {
				n++
			}
		}
	}
	return n
}

// place gives nodes their coordinates, each column centred on the tallest,
// and routes every edge: right side of its From node, across the columns
// of its dummies, to the left side of its To node.
func place(g *Graph, layers [][]*vertex, routes map[*Edge][]*vertex) {
	tallest := 0
	heights := make([]int, len(layers))
	for l, layer := range layers {
		for i, v := range layer {
			if i > 0 {
				heights[l] += gapY
			}
			heights[l] += v.height()
		}
		tallest = max(tallest, heights[l])
	}
	for l, layer := range layers {
		y := margin + (tallest-heights[l])/2
		for _, v := range layer {
			v.y = y
			if v.node != nil {
				v.node.X, v.node.Y = columnX(l), y
			}
			y += v.height() + gapY
		}
	}
	g.Width = 2*margin + len(layers)*nodeW + max(len(layers)-1, 0)*gapX + loopOut
	g.Height = 2*margin + tallest
	for _, e := range g.Edges {
		e.points = route(g.byID[e.From], g.byID[e.To], routes[e])
	}
}

func columnX(layer int) int { return margin + layer*(nodeW+gapX) }

// route is the polyline an edge is drawn along.
func route(from, to *Node, dummies []*vertex) []point {
	fy, ty := from.Y+nodeH/2, to.Y+nodeH/2
	switch {
	case from == to:
		x := from.X + nodeW
		return []point{{x, fy - 10}, {x + loopOut, fy - 10}, {x + loopOut, fy + 10}, {x, fy + 10}}
	case from.Layer == to.Layer:
		x := from.X + nodeW
		return []point{{x, fy}, {x + loopOut, fy}, {x + loopOut, ty}, {x, ty}}
	case from.Layer < to.Layer:
		pts := []point{{from.X + nodeW, fy}}
		for _, d := range dummies {
			cy := d.y + dummyH/2
			pts = append(pts, point{columnX(d.layer), cy}, point{columnX(d.layer) + nodeW, cy})
		}
		return append(pts, point{to.X, ty})
	}
	pts := []point{{from.X, fy}}
	for _, d := range dummies {
		cy := d.y + dummyH/2
		pts = append(pts, point{columnX(d.layer) + nodeW, cy}, point{columnX(d.layer), cy})
	}
	return append(pts, point{to.X + nodeW, ty})
}
