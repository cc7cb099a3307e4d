package envsubst

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kinds of failure, to test with errors.Is.
var (
	// ErrUnset is returned in strict mode for a variable with no value and
	// no default.
	ErrUnset = errors.New("variable is not set")
	// ErrSyntax is returned for a malformed expression.
	ErrSyntax = errors.New("bad substitution")
	// ErrUnsupported is returned for a bash form Flux does not support.
	ErrUnsupported = errors.New("unsupported expression")
	// ErrValue is returned when an operator cannot apply to the value, such
	// as a substring whose end comes before its start.
	ErrValue = errors.New("invalid value")
	// ErrExpansionTooLarge is returned when the expansion would write more
	// than its output budget (Options.MaxOutput); nothing is returned.
	ErrExpansionTooLarge = errors.New("variable expansion is too large")
)

// maxErrors bounds the errors collected from one input.
const maxErrors = 10

// maxExprText bounds the expression text quoted in an error.
const maxExprText = 60

// Error is one failed expression, with its position in the input.
type Error struct {
	// Line and Column locate the expression's "${" (1-based; the column
	// counts characters).
	Line, Column int
	// Expr is the text of the expression, shortened when long.
	Expr string
	// Var names the variable, when the error is about one.
	Var string
	// Detail explains the failure.
	Detail string
	// Kind is ErrUnset, ErrSyntax, ErrUnsupported, ErrValue or
	// ErrExpansionTooLarge.
	Kind error
}

// Error formats the error as "line L, column C: EXPR: DETAIL".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	if e.Expr != "" {
		b.WriteString(e.Expr)
		b.WriteString(": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// Unwrap returns the kind of the error.
func (e *Error) Unwrap() error { return e.Kind }

// Errors is the list of errors found in one input.
type Errors []*Error

// Error joins the errors with "; ".
func (es Errors) Error() string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the individual errors.
func (es Errors) Unwrap() []error {
	out := make([]error, 0, len(es))
	for _, e := range es {
		out = append(out, e)
	}
	return out
}

// newError builds an Error for the expression spanning src[start:end];
// end < 0 means the expression has no known end.
func newError(src string, start, end int, kind error, name, detail string) *Error {
	line, col := position(src, start)
	if end < 0 || end > len(src) {
		end = len(src)
	}
	return &Error{
		Line:   line,
		Column: col,
		Expr:   shorten(src[start:end]),
		Var:    name,
		Detail: detail,
		Kind:   kind,
	}
}

// position returns the 1-based line and character column of src[offset].
func position(src string, offset int) (line, col int) {
	before := src[:offset]
	line = 1 + strings.Count(before, "\n")
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCountInString(before[lineStart:])
}

// shorten cuts s to at most maxExprText bytes on a rune boundary, on the
// first line.
func shorten(s string) string {
	cut := false
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, cut = s[:i], true
	}
	if len(s) > maxExprText {
		n := maxExprText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	if cut {
		s += "..."
	}
	return s
}
