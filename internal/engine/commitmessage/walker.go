package commitmessage

import "text/template/parse"

// uses returns the first of fields a template tree reads from the top of
// its data, "" for none.
func uses(n parse.Node, fields [][]string) string {
	return walker{fields: fields}.usesIn(n)
}

type walker struct{ fields [][]string }

func (w walker) usesIn(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if f := w.usesIn(c); f != "" {
				return f
			}
		}
	case *parse.ActionNode:
		return w.usesIn(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if f := w.usesIn(c); f != "" {
				return f
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if f := w.usesIn(a); f != "" {
				return f
			}
		}
	case *parse.FieldNode:
		return w.path(n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return w.path(n.Ident[1:])
		}
	case *parse.ChainNode:
		return w.usesIn(n.Node)
	case *parse.IfNode:
		return w.branch(&n.BranchNode)
	case *parse.RangeNode:
		return w.branch(&n.BranchNode)
	case *parse.WithNode:
		return w.branch(&n.BranchNode)
	case *parse.TemplateNode:
		return w.usesIn(n.Pipe)
	}
	return ""
}

func (w walker) branch(b *parse.BranchNode) string {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if f := w.usesIn(n); f != "" {
			return f
		}
	}
	return ""
}

// path tells whether a field path from the top of the data starts with
// one of the fields.
func (w walker) path(ident []string) string {
	for _, f := range w.fields {
		if len(ident) >= len(f) && equal(ident[:len(f)], f) {
			return "." + joinDots(f)
		}
	}
	return ""
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func joinDots(p []string) string {
	s := p[0]
	for _, x := range p[1:] {
		s += "." + x
	}
	return s
}
