package generator

import (
	"os"
	"path"
)

// pair is one file to copy: src relative to the source root, dst relative
// to the output root.
type pair struct{ src, dst string }

// plan is what one copy operation writes, in source path order.
type plan struct {
	pairs []pair
	// single is true when from named one file (not a glob or directory),
	// where Extract of a non-tarball is an error rather than a skip.
	single bool
}

// planCopy resolves a copy operation's from, to and exclude into file pairs,
// following cp: a file to a file or into a directory, a glob's matches
// relative to its literal prefix, a directory itself ("dir/") or its
// contents ("dir/**"). A from matching nothing is a BuildFailed error.
// forceDir (Extract) makes to a directory and refuses a directory from.
func planCopy(c opContext, s *sourceRoot, from, to ref, exclude []string, forceDir bool, out *os.Root) (plan, error) {
	toDir := to.dir || forceDir || isDir(out, to.rel)
	if hasMeta(from.rel) {
		return planGlob(c, s, from, to, exclude)
	}
	k, err := s.kind(c, from.rel)
	if err != nil {
		return plan{}, err
	}
	x := excluder{patterns: exclude, base: joinRel(path.Dir(from.rel))}
	switch k {
	case kindFile:
		if x.excluded(from.rel) {
			return plan{single: true}, nil
		}
		dst := to.rel
		if toDir {
			dst = joinRel(to.rel, path.Base(from.rel))
		}
		return plan{pairs: []pair{{from.rel, dst}}, single: true}, nil
	case kindDir:
		if forceDir {
			return plan{}, c.failed("@"+from.alias+"/"+from.rel, nil, "Extract takes a tarball or a glob, not a directory; write %s/*.tgz", "@"+from.alias+"/"+from.rel)
		}
		dstBase := to.rel
		if toDir && from.rel != "" {
			dstBase = joinRel(to.rel, path.Base(from.rel))
		}
		files, _, err := s.walk(c, from.rel)
		if err != nil {
			return plan{}, err
		}
		x.base = from.rel
		var p plan
		for _, f := range files {
			if !x.excluded(f) {
				p.pairs = append(p.pairs, pair{f, joinRel(dstBase, relTo(f, from.rel))})
			}
		}
		return p, nil
	}
	return plan{}, c.failed("@"+from.alias+"/"+from.rel, nil, "from matches nothing in the source; check the path against the source's revision")
}

// planGlob copies every match of a glob, a matched directory with its
// subtree, keeping paths relative to the glob's literal prefix.
func planGlob(c opContext, s *sourceRoot, from, to ref, exclude []string) (plan, error) {
	base, pat := splitGlob(from.rel)
	notFound := c.failed("@"+from.alias+"/"+from.rel, nil, "from matches nothing in the source; check the glob against the source's revision")
	k, err := s.kind(c, base)
	if err != nil {
		return plan{}, err
	}
	if k != kindDir {
		return plan{}, notFound
	}
	files, dirs, err := s.walk(c, base)
	if err != nil {
		return plan{}, err
	}
	var matchedDirs []string
	for _, d := range dirs {
		if matchGlob(pat, relTo(d, base)) {
			matchedDirs = append(matchedDirs, d)
		}
	}
	x := excluder{patterns: exclude, base: base}
	var p plan
	matched := false
	for _, f := range files {
		if !matchGlob(pat, relTo(f, base)) && !inAny(f, matchedDirs) {
			continue
		}
		matched = true
		if !x.excluded(f) {
			p.pairs = append(p.pairs, pair{f, joinRel(to.rel, relTo(f, base))})
		}
	}
	// "dir/**" of an existing empty directory copies nothing, as cp would.
	if !matched && len(matchedDirs) == 0 && pat != "**" {
		return plan{}, notFound
	}
	return p, nil
}

// inAny reports whether p is inside one of dirs.
func inAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if under(p, d) {
			return true
		}
	}
	return false
}

// isDir reports whether rel is an existing directory of the output.
func isDir(out *os.Root, rel string) bool {
	if rel == "" {
		return true
	}
	fi, err := out.Stat(rel)
	return err == nil && fi.IsDir()
}
