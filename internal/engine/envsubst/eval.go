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
// expressions fail, an Errors. The output budget is DefaultMaxOutput.
func Substitute(input string, vars map[string]string, strict bool) (string, error) {
	return SubstituteWith(input, vars, Options{Strict: strict})
}

// SubstituteWith is Substitute with options. An expansion that would write
// more than the output budget fails with ErrExpansionTooLarge before it
// builds the string that would exceed it. Text without "${" is returned
// as is, whatever its length.
func SubstituteWith(input string, vars map[string]string, o Options) (string, error) {
	if !strings.Contains(input, "${") {
		return input, nil
	}
	nodes, err := parse(input)
	if err != nil {
		return "", err
	}
	ev := &evaluator{src: input, vars: vars, strict: o.Strict, m: matcher{budget: workBudget},
		limit: o.budget(len(input))}
	var b strings.Builder
	b.Grow(min(len(input), ev.limit))
	for _, n := range nodes {
		if e, ok := n.(*expr); ok {
			ev.top = e
		}
		s := ev.node(n, false)
		if !ev.charge(len(s)) {
			break
		}
		b.WriteString(s)
	}
	switch len(ev.errs) {
	case 0:
		return b.String(), nil
	case 1:
		return "", ev.errs[0]
	}
	return "", ev.errs
}

// evaluator expands parsed nodes. Every string it builds is first charged
// against the output budget (limit); results that are a variable's value
// or a part of it are returned without a copy, and cost nothing until they
// are written.
type evaluator struct {
	src    string
	vars   map[string]string
	strict bool
	m      matcher
	errs   Errors

	limit, used int   // output budget and bytes charged
	exceeded    bool  // a budget ran out: stop building
	top         *expr // the top-level expression being expanded
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
	if ev.exceeded {
		return ""
	}
	switch n := n.(type) {
	case literal:
		if pattern && n.quoted {
			if !ev.charge(2 * len(n.text)) {
				return ""
			}
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

// word expands a word; a word of one node is that node's expansion,
// without a copy.
func (ev *evaluator) word(w word, pattern bool) string {
	if len(w) == 1 {
		return ev.node(w[0], pattern)
	}
	var b strings.Builder
	for _, n := range w {
		s := ev.node(n, pattern)
		if !ev.charge(len(s)) {
			return ""
		}
		b.WriteString(s)
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
		if !ev.spend(e, len(val)) {
			return ""
		}
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

// glob compiles a pattern word, a step of work per character.
func (ev *evaluator) glob(e *expr, w word) (glob, bool) {
	p := ev.word(w, true)
	if ev.exceeded || !ev.spend(e, len(p)) {
		return nil, false
	}
	return compileGlob(p), true
}

// runes decodes val into characters, a step of work per character.
func (ev *evaluator) runes(e *expr, val string) ([]rune, bool) {
	if !ev.spend(e, len(val)) {
		return nil, false
	}
	return []rune(val), true
}

// changeCase implements ^, ^^, , and ,, with their optional pattern. Each
// character is charged before it is written: a case change may lengthen
// its encoding.
func (ev *evaluator) changeCase(e *expr, val string) string {
	upper := e.op == opUpperFirst || e.op == opUpperAll
	all := e.op == opUpperAll || e.op == opLowerAll
	var g glob
	if len(e.arg1) > 0 {
		var ok bool
		if g, ok = ev.glob(e, e.arg1); !ok {
			return ""
		}
	}
	var b strings.Builder
	for i, r := range val {
		if i > 0 && !all {
			if !ev.charge(len(val) - i) {
				return ""
			}
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
		n := utf8.RuneLen(r)
		if n < 0 {
			n = utf8.RuneLen(utf8.RuneError)
		}
		if !ev.charge(n) {
			return ""
		}
		b.WriteRune(r)
	}
	return b.String()
}

// substring implements ${var:offset} and ${var:offset:length}, counting
// characters, with bash's rules for negative numbers. The result is a part
// of val, not a copy.
func (ev *evaluator) substring(e *expr, val string) string {
	if !ev.spend(e, len(val)) {
		return ""
	}
	n := utf8.RuneCountInString(val)
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
	start := runeOffset(val, off)
	return val[start : start+runeOffset(val[start:], end-off)]
}

// integer evaluates an offset or length: an optionally signed integer,
// possibly in parentheses; blank counts as zero.
func (ev *evaluator) integer(e *expr, w word, what string) (int, bool) {
	s := strings.TrimSpace(ev.word(w, false))
	if ev.exceeded {
		return 0, false
	}
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return 0, true
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		ev.fail(e, ErrValue, fmt.Sprintf("substring %s %q is not an integer", what, shorten(s)))
		return 0, false
	}
	return v, true
}

// trim implements #, ##, % and %%. The result is a part of val.
func (ev *evaluator) trim(e *expr, val string) string {
	g, ok := ev.glob(e, e.arg1)
	if !ok {
		return ""
	}
	prefix := e.op == opTrimPrefix || e.op == opTrimPrefixLong
	long := e.op == opTrimPrefixLong || e.op == opTrimSuffixLong
	if lit, ok := g.literalOnly(); ok {
		if prefix {
			return strings.TrimPrefix(val, lit)
		}
		return strings.TrimSuffix(val, lit)
	}
	rs, ok := ev.runes(e, val)
	if !ok {
		return ""
	}
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
		return val[runeOffset(val, end):]
	}
	return val[:runeOffset(val, len(rs)-end)]
}
