package graph

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// Build makes the graph of objects (any kinds of the catalogue), limited to
// scope and laid out. It fails on an object of no catalogue kind, on two
// objects with one ID, on a scope naming an object that is not there, and
// with a *TooLargeError when more than MaxNodes nodes remain.
func Build(objects []kinds.Object, scope Scope) (*Graph, error) {
	g, err := assemble(objects)
	if err != nil {
		return nil, err
	}
	scoped, err := g.scope(scope)
	if err != nil {
		return nil, err
	}
	if len(scoped.Nodes) > MaxNodes {
		return nil, &TooLargeError{Nodes: len(scoped.Nodes)}
	}
	layout(scoped)
	return scoped, nil
}

// assemble makes the whole graph of objects, with its cycles named and
// marked, neither scoped nor laid out.
func assemble(objects []kinds.Object) (*Graph, error) {
	g := &Graph{byID: map[string]*Node{}, deps: map[string][]string{}}
	type entry struct {
		kind kinds.Kind
		obj  kinds.Object
		node *Node
	}
	entries := make([]entry, 0, len(objects))
	for _, obj := range objects {
		k, ok := kinds.Of(obj)
		if !ok {
			return nil, fmt.Errorf("object %s/%s: %T is no kind of the catalogue", obj.GetNamespace(), obj.GetName(), obj)
		}
		n := objectNode(k, obj)
		if g.byID[n.ID] != nil {
			return nil, fmt.Errorf("object %s given twice", n.ID)
		}
		g.byID[n.ID] = n
		g.Nodes = append(g.Nodes, n)
		entries = append(entries, entry{k, obj, n})
	}
	type edgeKey struct {
		from, to string
		typ      EdgeType
	}
	seen := map[edgeKey]bool{}
	for _, e := range entries {
		for _, r := range references(e.kind, e.obj) {
			from := g.refNode(r.ref)
			edge := Edge{From: from.ID, To: e.node.ID, Type: r.typ}
			if r.typ == EdgeDependsOn {
				g.deps[e.node.ID] = append(g.deps[e.node.ID], from.ID)
			}
			if (r.typ == EdgeAppliedBy && edge.From == edge.To) || seen[edgeKey{edge.From, edge.To, edge.Type}] {
				continue // an object applied by itself (bootstrap's flux-system), or said twice
			}
			seen[edgeKey{edge.From, edge.To, edge.Type}] = true
			g.Edges = append(g.Edges, &edge)
		}
	}
	g.sortGraph()
	g.Cycles = findCycles(g)
	return g, nil
}

// objectNode is the node of obj, with its state.
func objectNode(k kinds.Kind, obj kinds.Object) *Node {
	n := &Node{Group: k.Group, Kind: k.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	n.ID = ID(n.Group, n.Kind, n.Namespace, n.Name)
	n.State, n.Reason = state(k, obj)
	return n
}

// state is obj's Ready state and the reason that goes with it. Suspension
// wins (nothing will change until it is resumed), then Stalled (nothing
// will change until the spec does), then Reconciling, then Ready; an
// object without a Ready condition is Unknown, except a static one (a
// HelmRepository of type oci), which reads as Ready as the CLI shows it.
func state(k kinds.Kind, obj kinds.Object) (State, string) {
	conds := kinds.Conditions(obj)
	ready := find(conds, meta.ReadyCondition)
	reason := ""
	if ready != nil {
		reason = ready.Reason
	}
	if k.IsSuspended(obj) {
		return StateSuspended, reason
	}
	if c := find(conds, meta.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		return StateStalled, c.Reason
	}
	if c := find(conds, meta.ReconcilingCondition); c != nil && c.Status == metav1.ConditionTrue {
		return StateReconciling, c.Reason
	}
	switch {
	case ready == nil:
		if kinds.StaticMessage(obj) != "" {
			return StateReady, "Static"
		}
		return StateUnknown, ""
	case ready.Status == metav1.ConditionTrue:
		return StateReady, reason
	case ready.Status == metav1.ConditionFalse:
		return StateNotReady, reason
	}
	return StateUnknown, reason
}

func find(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// reference is one object obj refers to, and the edge type it makes.
type reference struct {
	ref kinds.Ref
	typ EdgeType
}

// references are what obj names: its source (the catalogue's Kind.Source:
// a Kustomization's sourceRef, a HelmRelease's chartRef or chart sourceRef,
// a HelmChart's or an ImagePolicy's), its dependsOn entries, and the
// Kustomization or HelmRelease its ownership labels name.
func references(k kinds.Kind, obj kinds.Object) []reference {
	var out []reference
	if k.Source != nil {
		if r := k.Source(obj); r.Kind != "" && r.Name != "" {
			out = append(out, reference{r, EdgeSource})
		}
	}
	switch o := obj.(type) {
	case *kustomizev1.Kustomization:
		for _, d := range o.Spec.DependsOn {
			out = append(out, reference{dependency(k, o, d), EdgeDependsOn})
		}
	case *helmv2.HelmRelease:
		for _, d := range o.Spec.DependsOn {
			out = append(out, reference{dependency(k, o, d), EdgeDependsOn})
		}
	}
	labels := obj.GetLabels()
	owners := []struct {
		kind                      kinds.Kind
		nameLabel, namespaceLabel string
	}{
		{kinds.Kustomization(), kustomizev1.NameLabel, kustomizev1.NamespaceLabel},
		{kinds.HelmRelease(), helmv2.NameLabel, helmv2.NamespaceLabel},
	}
	for _, ow := range owners {
		name, ns := labels[ow.nameLabel], labels[ow.namespaceLabel]
		if name == "" || ns == "" {
			continue
		}
		out = append(out, reference{kinds.Ref{APIVersion: ow.kind.GroupVersion().String(), Kind: ow.kind.Kind,
			Namespace: ns, Name: name}, EdgeAppliedBy})
	}
	return out
}

// dependency is a dependsOn entry of obj as a reference to an object of
// obj's own kind, the namespace defaulted to obj's as the controller does.
func dependency(k kinds.Kind, obj kinds.Object, d meta.DependencyReference) kinds.Ref {
	ns := d.Namespace
	if ns == "" {
		ns = obj.GetNamespace()
	}
	return kinds.Ref{APIVersion: k.GroupVersion().String(), Kind: k.Kind, Namespace: ns, Name: d.Name}
}

// refNode is the node r names, made as a missing one when no object
// stands for it.
func (g *Graph) refNode(r kinds.Ref) *Node {
	gk := r.GroupKind()
	id := ID(gk.Group, gk.Kind, r.Namespace, r.Name)
	if n := g.byID[id]; n != nil {
		return n
	}
	n := &Node{ID: id, Group: gk.Group, Kind: gk.Kind, Namespace: r.Namespace, Name: r.Name,
		State: StateUnknown, Reason: "NotFound", Missing: true}
	g.byID[id] = n
	g.Nodes = append(g.Nodes, n)
	return n
}
