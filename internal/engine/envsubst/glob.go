package envsubst

import (
	"errors"
	"unicode"
)

// errBudget stops an expansion (mostly pattern matching) that would take
// too long.
var errBudget = errors.New("expansion exceeds the work limit")

// tokenKind is the kind of one glob token.
type tokenKind uint8

const (
	tokLiteral tokenKind = iota // one character
	tokAny                      // ?
	tokStar                     // *
	tokClass                    // [...]
)

// token is one element of a compiled glob.
type token struct {
	kind  tokenKind
	r     rune
	class *charClass
}

// runeRange is an inclusive range of characters.
type runeRange struct{ lo, hi rune }

// charClass is a bracket expression.
type charClass struct {
	negate bool
	ranges []runeRange
	preds  []func(rune) bool
}

func (c *charClass) matches(r rune) bool {
	in := false
	for _, rg := range c.ranges {
		if r >= rg.lo && r <= rg.hi {
			in = true
			break
		}
	}
	for i := 0; !in && i < len(c.preds); i++ {
		in = c.preds[i](r)
	}
	return in != c.negate
}

// posixClasses maps the names allowed in [:name:] to their predicates.
func posixClass(name string) (func(rune) bool, bool) {
	switch name {
	case "alpha":
		return unicode.IsLetter, true
	case "digit":
		return func(r rune) bool { return r >= '0' && r <= '9' }, true
	case "alnum":
		return func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }, true
	case "upper":
		return unicode.IsUpper, true
	case "lower":
		return unicode.IsLower, true
	case "space":
		return unicode.IsSpace, true
	case "blank":
		return func(r rune) bool { return r == ' ' || r == '\t' }, true
	case "punct":
		return unicode.IsPunct, true
	case "cntrl":
		return unicode.IsControl, true
	case "print":
		return unicode.IsPrint, true
	case "graph":
		return func(r rune) bool { return unicode.IsPrint(r) && r != ' ' }, true
	case "xdigit":
		return func(r rune) bool {
			return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
		}, true
	case "word":
		return func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }, true
	}
	return nil, false
}

// glob is a compiled pattern.
type glob []token

// compileGlob compiles a bash pattern in which a backslash quotes the next
// character. A '[' without its closing ']' is a literal, as in bash.
func compileGlob(pattern string) glob {
	rs := []rune(pattern)
	var g glob
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\\':
			if i+1 < len(rs) {
				i++
			}
			g = append(g, token{kind: tokLiteral, r: rs[i]})
		case '*':
			if len(g) == 0 || g[len(g)-1].kind != tokStar {
				g = append(g, token{kind: tokStar})
			}
		case '?':
			g = append(g, token{kind: tokAny})
		case '[':
			if class, next, ok := compileClass(rs, i+1); ok {
				g = append(g, token{kind: tokClass, class: class})
				i = next
				continue
			}
			g = append(g, token{kind: tokLiteral, r: r})
		default:
			g = append(g, token{kind: tokLiteral, r: r})
		}
	}
	return g
}

// compileClass parses a bracket expression whose content starts at rs[i];
// it returns the index of the closing ']'.
func compileClass(rs []rune, i int) (*charClass, int, bool) {
	c := &charClass{}
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		c.negate = true
		i++
	}
	first := true
	for ; i < len(rs); i++ {
		r := rs[i]
		if r == ']' && !first {
			return c, i, true
		}
		first = false
		if r == '[' && i+1 < len(rs) && rs[i+1] == ':' {
			if end := indexFrom(rs, i+2, ":]"); end >= 0 {
				if pred, ok := posixClass(string(rs[i+2 : end])); ok {
					c.preds = append(c.preds, pred)
				}
				i = end + 1
				continue
			}
		}
		if r == '\\' && i+1 < len(rs) {
			i++
			r = rs[i]
		}
		lo := r
		if i+2 < len(rs) && rs[i+1] == '-' && rs[i+2] != ']' {
			hi := rs[i+2]
			i += 2
			if hi == '\\' && i+1 < len(rs) {
				i++
				hi = rs[i]
			}
			c.ranges = append(c.ranges, runeRange{lo, hi})
			continue
		}
		c.ranges = append(c.ranges, runeRange{lo, lo})
	}
	return nil, 0, false
}

// indexFrom returns the index of sub in rs at or after from, or -1.
func indexFrom(rs []rune, from int, sub string) int {
	want := []rune(sub)
	for i := from; i+len(want) <= len(rs); i++ {
		match := true
		for j, w := range want {
			if rs[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// reverse returns the glob that matches the reversed strings.
func (g glob) reverse() glob {
	out := make(glob, len(g))
	for i, t := range g {
		out[len(g)-1-i] = t
	}
	return out
}

// literalOnly reports whether the glob has no wildcard, returning its text.
func (g glob) literalOnly() (string, bool) {
	rs := make([]rune, 0, len(g))
	for _, t := range g {
		if t.kind != tokLiteral {
			return "", false
		}
		rs = append(rs, t.r)
	}
	return string(rs), true
}

// matcher runs globs over runes as a non-deterministic automaton whose
// states are token indexes; len(g) is the accepting state. budget counts
// the remaining steps.
type matcher struct {
	budget int
	cur    []bool
	next   []bool
}

// closure adds state i and, across stars, the states after it.
func closure(g glob, set []bool, i int) {
	for ; i <= len(g); i++ {
		set[i] = true
		if i == len(g) || g[i].kind != tokStar {
			return
		}
	}
}

// prefixes calls accept(end) for each end (ascending) such that
// s[start:end] matches g, until accept returns false.
func (m *matcher) prefixes(g glob, s []rune, start int, accept func(end int) bool) error {
	n := len(g) + 1
	if cap(m.cur) < n {
		m.cur, m.next = make([]bool, n), make([]bool, n)
	}
	cur, next := m.cur[:n], m.next[:n]
	clear(cur)
	closure(g, cur, 0)
	for pos := start; ; pos++ {
		m.budget -= n
		if m.budget < 0 {
			return errBudget
		}
		if cur[len(g)] && !accept(pos) {
			return nil
		}
		if pos == len(s) {
			return nil
		}
		clear(next)
		alive := false
		for i := 0; i < len(g); i++ {
			if !cur[i] {
				continue
			}
			t := g[i]
			switch {
			case t.kind == tokStar:
				closure(g, next, i)
				alive = true
			case t.kind == tokAny,
				t.kind == tokLiteral && t.r == s[pos],
				t.kind == tokClass && t.class.matches(s[pos]):
				closure(g, next, i+1)
				alive = true
			}
		}
		if !alive {
			return nil
		}
		cur, next = next, cur
	}
}

// shortest returns the end of the shortest match of g at s[start:].
func (m *matcher) shortest(g glob, s []rune, start int) (int, bool, error) {
	end, ok := -1, false
	err := m.prefixes(g, s, start, func(e int) bool { end, ok = e, true; return false })
	return end, ok, err
}

// longest returns the end of the longest match of g at s[start:].
func (m *matcher) longest(g glob, s []rune, start int) (int, bool, error) {
	end, ok := -1, false
	err := m.prefixes(g, s, start, func(e int) bool { end, ok = e, true; return true })
	return end, ok, err
}

// matchRune reports whether the single character r matches g.
func (m *matcher) matchRune(g glob, r rune) (bool, error) {
	end, ok, err := m.longest(g, []rune{r}, 0)
	return ok && end == 1, err
}
