package generator

import (
	"path"
	"strings"
)

// hasMeta reports whether s holds glob syntax.
func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// splitGlob returns the literal leading directories of a glob (its base) and
// the remaining pattern, so matches are copied relative to the base.
func splitGlob(rel string) (base, pattern string) {
	segs := strings.Split(rel, "/")
	i := 0
	for i < len(segs)-1 && !hasMeta(segs[i]) {
		i++
	}
	return strings.Join(segs[:i], "/"), strings.Join(segs[i:], "/")
}

// validGlob reports whether every segment of pattern is valid for
// path.Match, so a bad exclude fails validation instead of matching nothing.
func validGlob(pattern string) bool {
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return false
		}
	}
	return true
}

// matchGlob matches a slash path against a pattern where "**" spans any
// number of segments (including none) and other segments use path.Match.
func matchGlob(pattern, name string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

// matchSegs matches pattern segments against name segments, trying every
// span for "**".
func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// excluder decides which source files a copy operation leaves out.
type excluder struct {
	patterns []string
	base     string
}

// excluded reports whether the file at rel (relative to the source root) or
// one of its parent directories matches a pattern, relative to the root or
// to the base; a pattern without "/" matches a name at any depth.
func (x excluder) excluded(rel string) bool {
	for p := rel; p != "." && p != ""; p = path.Dir(p) {
		for _, pat := range x.patterns {
			if x.matches(pat, p) {
				return true
			}
		}
	}
	return false
}

// matches applies one exclude pattern to the path p (relative to the root).
func (x excluder) matches(pat, p string) bool {
	pat = strings.TrimSuffix(strings.TrimPrefix(pat, "/"), "/")
	if !strings.Contains(pat, "/") {
		ok, _ := path.Match(pat, path.Base(p))
		return ok
	}
	if matchGlob(pat, p) {
		return true
	}
	if x.base != "" && strings.HasPrefix(p, x.base+"/") {
		return matchGlob(pat, strings.TrimPrefix(p, x.base+"/"))
	}
	return false
}
