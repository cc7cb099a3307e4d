package generator

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// instance is one directory matched by the pathPattern (or the single
// implicit instance without one).
type instance struct {
	// dir is the matched directory, "@alias/path", for messages.
	dir string
	// names lists the capture names in pattern order.
	names []string
	// values holds the captures in their original case.
	values map[string]string
}

// lower returns the captures lowercased, as names and labels use them.
func (in instance) lower() map[string]string {
	out := make(map[string]string, len(in.values))
	for k, v := range in.values {
		out[k] = strings.ToLower(v)
	}
	return out
}

var (
	captureRe = regexp.MustCompile(`\{([^{}]*)\}`)
	// templateRe is a capture's use in names and copy paths, Go template
	// style as Flux writes it: {{ .app }}.
	templateRe   = regexp.MustCompile(`\{\{ *\.([A-Za-z0-9_.-]*) *\}\}`)
	captureName  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$`)
	labelValueRe = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$`)
)

// segment is one compiled pathPattern segment.
type segment struct {
	re    *regexp.Regexp
	names []string
}

// compilePattern turns "@alias/apps/{app}/envs/{env}" into per-segment
// regular expressions: {name} captures a non-empty name, "*" and "?" glob.
func compilePattern(c opContext, pattern string) (ref, []segment, error) {
	r, err := parseRef(c, "pathPattern", pattern)
	if err != nil {
		return ref{}, nil, err
	}
	if r.rel == "" {
		return ref{}, nil, c.invalid(pattern, "pathPattern names no directory; write @alias/dir/{capture}")
	}
	seen := map[string]bool{}
	var segs []segment
	for _, s := range strings.Split(r.rel, "/") {
		var b strings.Builder
		var names []string
		last := 0
		for _, m := range captureRe.FindAllStringSubmatchIndex(s, -1) {
			b.WriteString(globToRe(s[last:m[0]]))
			name := s[m[2]:m[3]]
			if !captureName.MatchString(name) || seen[name] {
				return ref{}, nil, c.invalid(pattern, "capture {%s} is empty, not a valid label key, or used twice", name)
			}
			seen[name] = true
			names = append(names, name)
			b.WriteString(`([^/]+)`)
			last = m[1]
		}
		b.WriteString(globToRe(s[last:]))
		segs = append(segs, segment{re: regexp.MustCompile("^" + b.String() + "$"), names: names})
	}
	if len(seen) == 0 {
		return ref{}, nil, c.invalid(pattern, "pathPattern has no {capture}; add one, as in @alias/apps/{app}")
	}
	return r, segs, nil
}

// globToRe quotes literal text, keeping "*" and "?" as in-segment globs.
func globToRe(s string) string {
	q := regexp.QuoteMeta(s)
	q = strings.ReplaceAll(q, `\*`, `[^/]*`)
	return strings.ReplaceAll(q, `\?`, `[^/]`)
}

// expandPattern lists the directories of the source matching the pattern,
// sorted, and refuses captures that are not valid label values or that
// collide after lowercasing, naming both directories.
func expandPattern(c opContext, roots map[string]*sourceRoot, pattern string) ([]instance, error) {
	c.op = "pathPattern " + pattern
	r, segs, err := compilePattern(c, pattern)
	if err != nil {
		return nil, err
	}
	s, ok := roots[r.alias]
	if !ok {
		return nil, c.invalid(pattern, "pathPattern names unknown source alias @%s; add it to sources", r.alias)
	}
	type cand struct {
		dir    string
		values map[string]string
		names  []string
	}
	level := []cand{{values: map[string]string{}}}
	for _, seg := range segs {
		var next []cand
		for _, cd := range level {
			name := cd.dir
			if name == "" {
				name = "."
			}
			entries, err := fs.ReadDir(s.root.FS(), name)
			if err != nil {
				return nil, c.failed("@"+r.alias+"/"+cd.dir, err, "cannot read the pathPattern directory")
			}
			for _, e := range entries {
				m := seg.re.FindStringSubmatch(e.Name())
				if !e.IsDir() || m == nil {
					continue
				}
				vals := make(map[string]string, len(cd.values)+len(seg.names))
				for k, v := range cd.values {
					vals[k] = v
				}
				for i, n := range seg.names {
					vals[n] = m[i+1]
				}
				next = append(next, cand{dir: joinRel(cd.dir, e.Name()), values: vals, names: append(append([]string(nil), cd.names...), seg.names...)})
			}
		}
		level = next
	}
	sort.Slice(level, func(i, j int) bool { return level[i].dir < level[j].dir })
	seen := map[string]string{}
	var out []instance
	for _, cd := range level {
		in := instance{dir: "@" + r.alias + "/" + cd.dir, names: cd.names, values: cd.values}
		var key []string
		for _, n := range in.names {
			v := strings.ToLower(in.values[n])
			if !labelValueRe.MatchString(v) {
				return nil, c.invalid(in.dir, "capture {%s} = %q is not a valid label value (63 characters of letters, digits, '-', '_', '.'); rename the directory", n, in.values[n])
			}
			key = append(key, n+"="+v)
		}
		k := strings.Join(key, ",")
		if other, dup := seen[k]; dup {
			return nil, c.invalid(in.dir, "directories %s and %s give the same captures after lowercasing (%s); rename one", other, in.dir, k)
		}
		seen[k] = in.dir
		out = append(out, in)
	}
	return out, nil
}

// fill replaces {{ .capture }} templates in s with values; an unknown
// capture is returned as an error.
func fill(s string, values map[string]string) (string, error) {
	var bad string
	out := templateRe.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := values[templateRe.FindStringSubmatch(m)[1]]
		if !ok && bad == "" {
			bad = m
		}
		return v
	})
	if bad != "" {
		return "", fmt.Errorf("placeholder %s is not a capture of the pathPattern", bad)
	}
	return out, nil
}
