package layering

import (
	"fmt"
	"slices"
	"strings"
)

// Package is one node of an import graph: a package and what it imports
// directly, as `go list -json` reports them.
type Package struct {
	ImportPath string
	Imports    []string
}

// Violation is one package that breaks a rule.
type Violation struct {
	// Rule is the name of the rule broken.
	Rule string
	// Chain is the shortest import chain from the package the rule applies
	// to down to a forbidden package; empty when the rule matched no
	// package at all.
	Chain []string
}

func (v Violation) String() string {
	if len(v.Chain) == 0 {
		return fmt.Sprintf("%s: the rule matches no package (renamed or deleted?)", v.Rule)
	}
	return fmt.Sprintf("%s: %s", v.Rule, strings.Join(v.Chain, " -> "))
}

// Check returns every package of pkgs that breaks one of rules, at most one
// violation per rule and package, in the order of rules and then of pkgs;
// nil when every rule holds. A rule whose From matches none of pkgs is a
// violation too, so that renaming a package cannot make its rule pass by
// checking nothing. pkgs must hold the whole graph beneath the packages the
// rules apply to, as `go list -deps` gives it.
func Check(rules []Rule, pkgs []Package) []Violation {
	graph := make(map[string][]string, len(pkgs))
	for _, p := range pkgs {
		graph[p.ImportPath] = p.Imports
	}
	var out []Violation
	for _, r := range rules {
		matched := false
		for _, p := range pkgs {
			if !matchAny(r.From, p.ImportPath) {
				continue
			}
			matched = true
			if r.Direct {
				if i := slices.IndexFunc(p.Imports, func(imp string) bool { return matchAny(r.Forbid, imp) }); i >= 0 {
					out = append(out, Violation{Rule: r.Name, Chain: []string{p.ImportPath, p.Imports[i]}})
				}
				continue
			}
			if chain := pathTo(graph, p.ImportPath, r.Forbid, r.Opaque); chain != nil {
				out = append(out, Violation{Rule: r.Name, Chain: chain})
			}
		}
		if !matched {
			out = append(out, Violation{Rule: r.Name})
		}
	}
	return out
}

// pathTo returns the shortest import chain from root to a package matching
// one of forbid (breadth first), or nil when there is none. root itself
// counts: a rule may not allow what it forbids. The imports of a package
// matching one of opaque are not followed.
func pathTo(graph map[string][]string, root string, forbid, opaque []string) []string {
	parent := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if matchAny(forbid, p) {
			var chain []string
			for q := p; q != ""; q = parent[q] {
				chain = append(chain, q)
			}
			slices.Reverse(chain)
			return chain
		}
		if matchAny(opaque, p) {
			continue
		}
		for _, imp := range graph[p] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

func matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(pattern string) bool { return match(pattern, path) })
}

// match tells whether path matches pattern: the same path, or, for a
// pattern "x/...", x or a path beneath x/.
func match(pattern, path string) bool {
	prefix, tree := strings.CutSuffix(pattern, "/...")
	if !tree {
		return path == pattern
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
