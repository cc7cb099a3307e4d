package envsubst

import "strings"

// replace implements /, //, /# and /%.
func (ev *evaluator) replace(e *expr, val string) string {
	g, ok := ev.glob(e, e.arg1)
	if !ok {
		return ""
	}
	rep := ev.word(e.arg2, false)
	if ev.exceeded {
		return ""
	}
	if len(g) == 0 {
		switch e.op {
		case opReplacePrefix:
			return ev.concat(rep, val)
		case opReplaceSuffix:
			return ev.concat(val, rep)
		}
		return val
	}
	if lit, ok := g.literalOnly(); ok {
		return ev.replaceLiteral(e.op, val, lit, rep)
	}
	rs, ok := ev.runes(e, val)
	if !ok {
		return ""
	}
	var out string
	var err error
	switch e.op {
	case opReplacePrefix:
		out, err = ev.replaceAnchored(g, val, rs, rep, false)
	case opReplaceSuffix:
		out, err = ev.replaceAnchored(g.reverse(), val, reversed(rs), rep, true)
	default:
		out, err = ev.replaceScan(g, rs, rep, e.op == opReplaceAll)
	}
	if err != nil {
		ev.fail(e, ErrValue, err.Error())
		return ""
	}
	return out
}

// concat joins a and b once their length is charged.
func (ev *evaluator) concat(a, b string) string {
	if !ev.charge(len(a) + len(b)) {
		return ""
	}
	return a + b
}

// replaceLiteral replaces a pattern without wildcards, charging the length
// of the result before building it.
func (ev *evaluator) replaceLiteral(o op, val, lit, rep string) string {
	switch o {
	case opReplacePrefix:
		if rest, ok := strings.CutPrefix(val, lit); ok {
			return ev.concat(rep, rest)
		}
		return val
	case opReplaceSuffix:
		if rest, ok := strings.CutSuffix(val, lit); ok {
			return ev.concat(rest, rep)
		}
		return val
	}
	count := 1
	if o == opReplaceAll {
		count = strings.Count(val, lit)
	} else if !strings.Contains(val, lit) {
		count = 0
	}
	if count == 0 {
		return val
	}
	// count <= len(val) and len(rep) <= the budget: no overflow.
	if !ev.charge(len(val) + count*(len(rep)-len(lit))) {
		return ""
	}
	return strings.Replace(val, lit, rep, count)
}

// replaceAnchored replaces the longest match at the start of rs, the
// characters of val; when reversedInput is set, rs and g are reversed and
// the match is at the end.
func (ev *evaluator) replaceAnchored(g glob, val string, rs []rune, rep string, reversedInput bool) (string, error) {
	end, ok, err := ev.m.longest(g, rs, 0)
	if err != nil || !ok {
		return val, err
	}
	if reversedInput {
		return ev.concat(val[:runeOffset(val, len(rs)-end)], rep), nil
	}
	return ev.concat(rep, val[runeOffset(val, end):]), nil
}

// replaceScan replaces the leftmost longest match, or every one.
func (ev *evaluator) replaceScan(g glob, rs []rune, rep string, all bool) (string, error) {
	var b strings.Builder
	write := func(rs []rune, s string) bool {
		if !ev.charge(runesLen(rs) + len(s)) {
			return false
		}
		for _, r := range rs {
			b.WriteRune(r)
		}
		b.WriteString(s)
		return true
	}
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
		if !write(rs[last:i], rep) {
			return "", nil
		}
		if end == i {
			if i < len(rs) && !write(rs[i:i+1], "") {
				return "", nil
			}
			end++
		}
		i, last = end, min(end, len(rs))
		if !all {
			break
		}
	}
	if !write(rs[last:], "") {
		return "", nil
	}
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
