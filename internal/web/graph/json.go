package graph

import "encoding/json"

type jsonGraph struct {
	Nodes  []jsonNode `json:"nodes"`
	Edges  []jsonEdge `json:"edges"`
	Cycles []string   `json:"cycles"`
	Width  int        `json:"width"`
	Height int        `json:"height"`
}

type jsonNode struct {
	ID        string `json:"id"`
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	State     State  `json:"state"`
	Reason    string `json:"reason"`
	Href      string `json:"href"`
	Layer     int    `json:"layer"`
	X         int    `json:"x"`
	Y         int    `json:"y"`
	Missing   bool   `json:"missing"`
	Outside   bool   `json:"outside"`
}

type jsonEdge struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Type  EdgeType `json:"type"`
	Cycle bool     `json:"cycle"`
}

// JSON is the graph for /graph.json: nodes (with their layout), edges and
// the named cycles, in the graph's stable order.
func (g *Graph) JSON() ([]byte, error) {
	out := jsonGraph{Nodes: []jsonNode{}, Edges: []jsonEdge{}, Cycles: []string{}, Width: g.Width, Height: g.Height}
	for _, n := range g.Nodes {
		out.Nodes = append(out.Nodes, jsonNode{n.ID, n.Group, n.Kind, n.Namespace, n.Name, n.State, n.Reason,
			n.Href(), n.Layer, n.X, n.Y, n.Missing, n.Outside})
	}
	for _, e := range g.Edges {
		out.Edges = append(out.Edges, jsonEdge{e.From, e.To, e.Type, e.Cycle})
	}
	out.Cycles = append(out.Cycles, g.Cycles...)
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
