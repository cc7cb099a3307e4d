package generator

import (
	"path"
	"strings"
	"testing"
)

// FuzzParseRef checks that no accepted reference leaves its root: the
// cleaned path is relative, holds no ".." and stays the same when cleaned
// again.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"@a/b", "@a/../b", "@a/b/../../c", "@a//b/./c/", "@a/", "@a", "@artifact/x/**", "@a/\\..\\x", "@a/.../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRef(opContext{}, "from", s)
		if err != nil {
			return
		}
		if strings.HasPrefix(r.rel, "/") || r.rel == ".." || strings.HasPrefix(r.rel, "../") || strings.Contains(r.rel, "/../") {
			t.Fatalf("%q parsed to escaping path %q", s, r.rel)
		}
		if r.rel != "" && path.Clean(r.rel) != r.rel {
			t.Fatalf("%q parsed to unclean path %q", s, r.rel)
		}
	})
}

// FuzzMatchGlob checks that "**" matches every path and that a literal
// pattern matches exactly itself.
func FuzzMatchGlob(f *testing.F) {
	f.Add("a/b/c.yaml")
	f.Add("x")
	f.Fuzz(func(t *testing.T, name string) {
		if !matchGlob("**", name) {
			t.Fatalf("** does not match %q", name)
		}
		if !hasMeta(name) && !strings.Contains(name, "\\") && !matchGlob(name, name) {
			t.Fatalf("literal %q does not match itself", name)
		}
	})
}
