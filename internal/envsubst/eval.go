package envsubst

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// workBudget bounds the pattern-matching steps of one Substitute call, so a
// large value with a pathological pattern fails instead of running for
// hours.
const workBudget = 1 << 27

// nameRegexp is the rule variable names follow.
var nameRegexp = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

// ValidName reports whether name may be used as a variable name.
func ValidName(name string) bool { return nameRegexp.MatchString(name) }

// ValidateName returns an error naming name when it is not a valid variable
// name.
func ValidateName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("variable name %q is invalid: it must match %s", name, nameRegexp)
	}
	return nil
}

// Substitute expands the ${...} expressions of input with vars. In strict
// mode a variable with no value and no default is an error; otherwise it
// expands to the empty string. The error is an *Error or, when several
// expressions fail, an Errors.
func Substitute(input string, vars map[string]string, strict bool) (string, error) {
	if !strings.Contains(input, "${") {
		return input, nil
	}
	nodes, err := parse(input)
	if err != nil {
		return "", err
	}
	ev := &evaluator{src: input, vars: vars, strict: strict, m: matcher{budget: workBudget}}
	var b strings.Builder
	b.Grow(len(input))
	for _, n := range nodes {
		b.WriteString(ev.node(n, false))
	}
	switch len(ev.errs) {
	case 0:
		return b.String(), nil
	case 1:
		return "", ev.errs[0]
	}
	return "", ev.errs
}

// evaluator expands parsed nodes.
type evaluator struct {
	src    string
	vars   map[string]string
	strict bool
	m      matcher
	errs   Errors
}

// fail records an error for e.
func (ev *evaluator) fail(e *expr, kind error, detail string) {
	if len(ev.errs) < maxErrors {
		ev.errs = append(ev.errs, newError(ev.src, e.start, e.end, kind, e.name, detail))
	}
}

// node expands one node; in a pattern, quoted literals are escaped so they
// never act as wildcards.
func (ev *evaluator) node(n node, pattern bool) string {
	switch n := n.(type) {
	case literal:
		if pattern && n.quoted {
			var b strings.Builder
			for _, r := range n.text {
				b.WriteByte('\\')
				b.WriteRune(r)
			}
			return b.String()
		}
		return n.text
	case *expr:
		return ev.expand(n)
	}
	return ""
}

// word expands a word.
func (ev *evaluator) word(w word, pattern bool) string {
	var b strings.Builder
	for _, n := range w {
		b.WriteString(ev.node(n, pattern))
	}
	return b.String()
}

// expand evaluates one expression.
func (ev *evaluator) expand(e *expr) string {
	val, set := ev.vars[e.name]
	switch e.op {
	case opDefaultUnset:
		if !set {
			return ev.word(e.arg1, false)
		}
		return val
	case opDefaultEmpty:
		if !set || val == "" {
			return ev.word(e.arg1, false)
		}
		return val
	}
	if !set && ev.strict {
		ev.fail(e, ErrUnset, fmt.Sprintf("variable %q is not set", e.name))
		return ""
	}
	switch e.op {
	case opValue:
		return val
	case opLength:
		return strconv.Itoa(utf8.RuneCountInString(val))
	case opUpperFirst, opUpperAll, opLowerFirst, opLowerAll:
		return ev.changeCase(e, val)
	case opSubstring:
		return ev.substring(e, val)
	case opTrimPrefix, opTrimPrefixLong, opTrimSuffix, opTrimSuffixLong:
		return ev.trim(e, val)
	default:
		return ev.replace(e, val)
	}
}

// changeCase implements ^, ^^, , and ,, with their optional pattern.
func (ev *evaluator) changeCase(e *expr, val string) string {
	upper := e.op == opUpperFirst || e.op == opUpperAll
	all := e.op == opUpperAll || e.op == opLowerAll
	var g glob
	if len(e.arg1) > 0 {
		g = compileGlob(ev.word(e.arg1, true))
	}
	var b strings.Builder
	for i, r := range val {
		if i > 0 && !all {
			b.WriteString(val[i:])
			break
		}
		change := true
		if g != nil {
			ok, err := ev.m.matchRune(g, r)
			if err != nil {
				ev.fail(e, ErrValue, err.Error())
				return ""
			}
			change = ok
		}
		switch {
		case change && upper:
			r = unicode.ToUpper(r)
		case change:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// substring implements ${var:offset} and ${var:offset:length}, counting
// characters, with bash's rules for negative numbers.
func (ev *evaluator) substring(e *expr, val string) string {
	rs := []rune(val)
	n := len(rs)
	off, ok := ev.integer(e, e.arg1, "offset")
	if !ok {
		return ""
	}
	if off < 0 {
		off += n
	}
	if off < 0 || off > n {
		return ""
	}
	end := n
	if e.hasArg2 {
		length, ok := ev.integer(e, e.arg2, "length")
		if !ok {
			return ""
		}
		switch {
		case length >= 0 && length < n-off:
			end = off + length
		case length < 0:
			end = n + length
			if end < off {
				ev.fail(e, ErrValue, fmt.Sprintf("substring end %d comes before its start %d", end, off))
				return ""
			}
		}
	}
	return string(rs[off:end])
}

// integer evaluates an offset or length: an optionally signed integer,
// possibly in parentheses; blank counts as zero.
func (ev *evaluator) integer(e *expr, w word, what string) (int, bool) {
	s := strings.TrimSpace(ev.word(w, false))
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return 0, true
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		ev.fail(e, ErrValue, fmt.Sprintf("substring %s %q is not an integer", what, s))
		return 0, false
	}
	return v, true
}

// trim implements #, ##, % and %%.
func (ev *evaluator) trim(e *expr, val string) string {
	g := compileGlob(ev.word(e.arg1, true))
	prefix := e.op == opTrimPrefix || e.op == opTrimPrefixLong
	long := e.op == opTrimPrefixLong || e.op == opTrimSuffixLong
	if lit, ok := g.literalOnly(); ok {
		if prefix {
			return strings.TrimPrefix(val, lit)
		}
		return strings.TrimSuffix(val, lit)
	}
	rs := []rune(val)
	if !prefix {
		rs = reversed(rs)
		g = g.reverse()
	}
	find := ev.m.shortest
	if long {
		find = ev.m.longest
	}
	end, ok, err := find(g, rs, 0)
	if err != nil {
		ev.fail(e, ErrValue, err.Error())
		return ""
	}
	if !ok {
		return val
	}
	if prefix {
		return string(rs[end:])
	}
	return string(reversed(rs[end:]))
}

// replace implements /, //, /# and /%.
func (ev *evaluator) replace(e *expr, val string) string {
	g := compileGlob(ev.word(e.arg1, true))
	rep := ev.word(e.arg2, false)
	if len(g) == 0 {
		switch e.op {
		case opReplacePrefix:
			return rep + val
		case opReplaceSuffix:
			return val + rep
		}
		return val
	}
	if lit, ok := g.literalOnly(); ok {
		return replaceLiteral(e.op, val, lit, rep)
	}
	rs := []rune(val)
	var out string
	var err error
	switch e.op {
	case opReplacePrefix:
		out, err = ev.replaceAnchored(g, rs, rep, false)
	case opReplaceSuffix:
		out, err = ev.replaceAnchored(g.reverse(), reversed(rs), rep, true)
	default:
		out, err = ev.replaceScan(g, rs, rep, e.op == opReplaceAll)
	}
	if err != nil {
		ev.fail(e, ErrValue, err.Error())
		return ""
	}
	return out
}

// replaceLiteral replaces a pattern without wildcards.
func replaceLiteral(o op, val, lit, rep string) string {
	switch o {
	case opReplacePrefix:
		if strings.HasPrefix(val, lit) {
			return rep + val[len(lit):]
		}
		return val
	case opReplaceSuffix:
		if strings.HasSuffix(val, lit) {
			return val[:len(val)-len(lit)] + rep
		}
		return val
	case opReplaceAll:
		return strings.ReplaceAll(val, lit, rep)
	}
	return strings.Replace(val, lit, rep, 1)
}

// replaceAnchored replaces the longest match at the start of rs; when
// reversedInput is set, rs and g are reversed and the match is at the end.
func (ev *evaluator) replaceAnchored(g glob, rs []rune, rep string, reversedInput bool) (string, error) {
	end, ok, err := ev.m.longest(g, rs, 0)
	if err != nil || !ok {
		if reversedInput {
			rs = reversed(rs)
		}
		return string(rs), err
	}
	if reversedInput {
		return string(reversed(rs[end:])) + rep, nil
	}
	return rep + string(rs[end:]), nil
}

// replaceScan replaces the leftmost longest match, or every one.
func (ev *evaluator) replaceScan(g glob, rs []rune, rep string, all bool) (string, error) {
	var b strings.Builder
	last := 0
	for i := 0; i < len(rs) || (i == 0 && len(rs) == 0); {
		end, ok, err := ev.m.longest(g, rs, i)
		if err != nil {
			return "", err
		}
		if !ok {
			i++
			continue
		}
		b.WriteString(string(rs[last:i]))
		b.WriteString(rep)
		if end == i {
			if i < len(rs) {
				b.WriteRune(rs[i])
			}
			end++
		}
		i, last = end, min(end, len(rs))
		if !all {
			break
		}
	}
	b.WriteString(string(rs[last:]))
	return b.String(), nil
}

// reversed returns a reversed copy of rs.
func reversed(rs []rune) []rune {
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[len(rs)-1-i] = r
	}
	return out
}
