package ignore

import (
	"strings"
	"testing"
)

// FuzzMatch feeds arbitrary spec.ignore texts and paths to the matcher: it
// must never panic, and the VCS directory .git/ stays excluded unless a
// rule re-includes it explicitly.
func FuzzMatch(f *testing.F) {
	seeds := []struct{ rules, path string }{
		{"", "a/b.yaml"},
		{"*.md\n/docs/\n", "docs/guide.md"},
		{"!keep.md\n*.md\n", "keep.md"},
		{"**/tmp/**\n", "a/tmp/b/c"},
		{"[a-\n", "a"},
		{"\\!x\n#c\n  \n", "!x"},
		{"/\n", "/"},
		{"a/**/b\n", "a/x/y/b"},
	}
	for _, s := range seeds {
		f.Add(s.rules, s.path)
	}
	f.Fuzz(func(t *testing.T, rules, path string) {
		spec := rules
		r, err := FromSpec(&spec)
		if err != nil {
			return
		}
		parts := strings.Split(strings.Trim(path, "/"), "/")
		r.Match(parts, false)
		r.Match(parts, true)
		r.SkipDir(parts)
		if !strings.Contains(rules, "!") && !r.Match([]string{".git"}, true) {
			t.Fatalf("rules %q re-included .git/ without a negation", rules)
		}
	})
}
