// Package graph is the dependency graph of the web UI's /graph page, as
// plain Go: from the Flux objects a viewer may see it builds nodes (one per
// object, and one per reference to an object that is not there) and typed
// edges (source, dependsOn, appliedBy), names dependsOn cycles as the
// controller does, scopes the graph, lays it out in layers with crossings
// reduced by the barycentre method, and renders it as inline SVG (classes
// only, no styles or scripts, for a strict Content-Security-Policy) and as
// JSON. Every output is deterministic: the same objects in any order give
// the same bytes. It serves no HTTP itself.
package graph

import (
	"fmt"
	"net/url"
	"sort"
)

// MaxNodes is the most nodes Build draws; past it, it returns a
// *TooLargeError so that the page asks for a scope instead. Layout is
// quadratic in places and a picture of more nodes is unreadable anyway.
const MaxNodes = 300

// State is a node's Ready state as the UI words it.
type State string

// The states of a node.
const (
	StateReady       State = "Ready"
	StateNotReady    State = "Not ready"
	StateReconciling State = "Reconciling"
	StateStalled     State = "Stalled"
	StateSuspended   State = "Suspended"
	StateUnknown     State = "Unknown"
)

// EdgeType is what an edge stands for.
type EdgeType string

// The types of edges. Every edge points downstream: from what a node
// reads, waits for or was applied by, to that node.
const (
	// EdgeSource goes from a source to the object that reads it
	// (spec.sourceRef, spec.chartRef, spec.chart.spec.sourceRef).
	EdgeSource EdgeType = "source"
	// EdgeDependsOn goes from a dependency to the object whose
	// spec.dependsOn names it: the dependent comes after.
	EdgeDependsOn EdgeType = "dependsOn"
	// EdgeAppliedBy goes from a Kustomization (or HelmRelease) to an object
	// whose ownership labels name it.
	EdgeAppliedBy EdgeType = "appliedBy"
)

// Node is one object, or one missing object a reference names.
type Node struct {
	ID        string
	Group     string
	Kind      string
	Namespace string
	Name      string
	State     State
	Reason    string
	// Missing is true for a node that no input object stands for: a
	// dangling reference, drawn rather than dropped.
	Missing bool
	// Outside is true for a node outside the scoped namespace, drawn
	// because an object inside refers to it.
	Outside bool

	// Layer, X and Y are the layout's (Build fills them).
	Layer int
	X, Y  int
}

// Href is the node's object page, /o/{group}/{kind}/{namespace}/{name},
// each segment path-escaped ("_" stands for the core group's empty one).
func (n *Node) Href() string {
	g := n.Group
	if g == "" {
		g = "_"
	}
	return "/o/" + url.PathEscape(g) + "/" + url.PathEscape(n.Kind) + "/" +
		url.PathEscape(n.Namespace) + "/" + url.PathEscape(n.Name)
}

// sortKey orders nodes stably: kind, namespace, name, then group.
func (n *Node) sortKey() string {
	return n.Kind + "\x00" + n.Namespace + "\x00" + n.Name + "\x00" + n.Group
}

// Edge is one typed reference between two nodes, by ID.
type Edge struct {
	From, To string
	Type     EdgeType
	// Cycle is true for a dependsOn edge on a dependency cycle.
	Cycle bool

	// points is the layout's route: the dummy positions between the ends.
	points []point
}

// Graph is a built, laid out graph.
type Graph struct {
	// Nodes sorted by kind, namespace, name; Edges by from, to, type.
	Nodes []*Node
	Edges []*Edge
	// Cycles are the dependsOn cycles, named as the controller names them
	// ("ns/a -> ns/b -> ns/a"), sorted.
	Cycles []string
	// Width and Height are the drawing's size.
	Width, Height int

	byID map[string]*Node
	// deps are each node's dependsOn entries, by ID, in spec order: the
	// order the controller walks them in when it names a cycle.
	deps map[string][]string
}

// Node is the node of id, nil when there is none.
func (g *Graph) Node(id string) *Node { return g.byID[id] }

// ID is the ID of an object's node: group/kind/namespace/name.
func ID(group, kind, namespace, name string) string {
	return group + "/" + kind + "/" + namespace + "/" + name
}

// TooLargeError is Build's answer when the scoped graph has more than
// MaxNodes nodes: the page asks for a narrower scope instead of drawing.
type TooLargeError struct {
	Nodes int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("graph has %d nodes, more than %d: choose a namespace or an object to draw around", e.Nodes, MaxNodes)
}

// sortGraph puts nodes and edges in their stable order.
func (g *Graph) sortGraph() {
	sort.Slice(g.Nodes, func(i, j int) bool { return g.Nodes[i].sortKey() < g.Nodes[j].sortKey() })
	sort.Slice(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Type < b.Type
	})
}
