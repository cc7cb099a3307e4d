package envsubst

import (
	"fmt"
	"unicode/utf8"
)

// MinMaxOutput is the smallest default output budget: 1 MiB.
const MinMaxOutput = 1 << 20

// DefaultMaxOutput is the output budget of an input of inputLen bytes when
// Options.MaxOutput is not set: four times the input, at least MinMaxOutput.
// It lets a manifest quadruple through its variables, and stops a
// replacement that feeds a value into itself (${v//a/${v}} grows as the
// square of the value) long before it exhausts the controller's memory.
func DefaultMaxOutput(inputLen int) int {
	return max(MinMaxOutput, 4*inputLen)
}

// Options configures SubstituteWith.
type Options struct {
	// Strict makes a variable with no value and no default an error;
	// otherwise it expands to the empty string.
	Strict bool
	// MaxOutput bounds, in bytes, what the expansion writes: the output and
	// every intermediate result it builds (a replacement, a nested
	// expression, a changed case), each counted when it is built. So it
	// bounds the memory of one expansion, and the output is never longer.
	// Zero or less means DefaultMaxOutput(len(input)).
	MaxOutput int
}

// budget returns the output budget of an input of n bytes.
func (o Options) budget(n int) int {
	if o.MaxOutput > 0 {
		return o.MaxOutput
	}
	return DefaultMaxOutput(n)
}

// charge reserves n bytes of the output budget before a write. Once the
// budget is exhausted it records the error, naming the top-level expression
// being expanded, and every later charge fails, so the evaluation unwinds
// without building anything else.
func (ev *evaluator) charge(n int) bool {
	if ev.exceeded {
		return false
	}
	if n <= ev.limit-ev.used {
		ev.used += n
		return true
	}
	ev.exceeded = true
	detail := fmt.Sprintf("variable expansion exceeds %d bytes", ev.limit)
	err := newError(ev.src, 0, 0, ErrExpansionTooLarge, "", detail)
	if e := ev.top; e != nil {
		err = newError(ev.src, e.start, e.end, ErrExpansionTooLarge, e.name, detail)
	}
	ev.errs = append(ev.errs, err)
	return false
}

// spend takes n steps from the work budget, which bounds the time of one
// expansion: decoding a value into characters costs a step per character.
func (ev *evaluator) spend(e *expr, n int) bool {
	if ev.exceeded {
		return false
	}
	ev.m.budget -= n
	if ev.m.budget < 0 {
		ev.fail(e, ErrValue, errBudget.Error())
		ev.exceeded = true
		return false
	}
	return true
}

// runeOffset returns the byte offset of the k-th character of s (len(s)
// when s has k characters or fewer).
func runeOffset(s string, k int) int {
	for i := range s {
		if k == 0 {
			return i
		}
		k--
	}
	return len(s)
}

// runesLen returns the length in bytes of the UTF-8 encoding of rs.
func runesLen(rs []rune) int {
	n := 0
	for _, r := range rs {
		if l := utf8.RuneLen(r); l > 0 {
			n += l
		} else {
			n += utf8.RuneLen(utf8.RuneError) // how an invalid rune is written
		}
	}
	return n
}
