package health

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// celCostLimit bounds the work one evaluation may do: about a million
// elementary steps, 0.1 to 0.4 s of CPU at worst here. Tenants write these
// expressions, so without it a short expression (nested comprehensions over
// a long list) could hold a worker for hours.
const celCostLimit = 1_000_000

// celInterruptCheckFrequency is how many comprehension iterations run between
// two looks at the context, so a cancelled wait stops an evaluation.
const celInterruptCheckFrequency = 100

// celMaxExpressionLength bounds the source of one expression, in code
// points: it bounds the compile time and the literals an evaluation
// builds, which the cost limit counts at a fixed price whatever their size.
const celMaxExpressionLength = 10_000

// BoolExpression is a compiled boolean CEL expression, bounded in cost and
// interrupted when the context of its evaluation ends. Compile it once and
// evaluate it as often as needed, from any goroutine.
type BoolExpression struct {
	src string
	prg cel.Program
}

// CompileBool compiles a boolean CEL expression over the named variables,
// each of dynamic type, with the functions health checks offer (optional
// types, the strings, lists, sets, math and encoders extensions). An
// expression that does not compile, or whose result type is known not to be
// bool, is an *InvalidExpressionError.
func CompileBool(expr string, variables ...string) (*BoolExpression, error) {
	env, err := newCELEnv(variables)
	if err != nil {
		return nil, fmt.Errorf("set up CEL: %w", err)
	}
	return compileBool(env, expr)
}

// String returns the expression's source.
func (e *BoolExpression) String() string { return e.src }

// Eval evaluates the expression on vars (variable name → value, as
// unstructured JSON: maps, slices, strings, int64, float64, bool). The error
// is an *EvalError whose message never holds a value the expression read or
// computed: IsMissingField tells a field or key the input does not have yet,
// IsCostLimit an evaluation that exceeded the cost limit; a cancelled ctx
// interrupts the evaluation and the error then matches ctx's error with
// errors.Is.
func (e *BoolExpression) Eval(ctx context.Context, vars map[string]any) (bool, error) {
	limited, cancel := context.WithTimeout(ctx, evalTimeLimit)
	defer cancel()
	out, _, err := e.prg.ContextEval(limited, vars)
	if ctxErr := ctx.Err(); ctxErr != nil && err != nil {
		return false, &EvalError{Expression: e.src, Cause: EvalInterrupted, Detail: ctxErr.Error(), ctxErr: ctxErr}
	}
	if limited.Err() != nil && err != nil {
		return false, &EvalError{Expression: e.src, Cause: EvalTimeLimit}
	}
	if err != nil {
		return false, evalError(e.src, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, &EvalError{Expression: e.src, Cause: EvalNotBool, Detail: out.Type().TypeName()}
	}
	return b, nil
}

// InvalidExpressionError is an expression that cannot be used: it does not
// compile or its result is not boolean. Reason maps it to
// InvalidCELExpression.
type InvalidExpressionError struct {
	Expression string
	Err        error
}

func (e *InvalidExpressionError) Error() string {
	return fmt.Sprintf("invalid CEL expression %q: %v", e.Expression, e.Err)
}

func (e *InvalidExpressionError) Unwrap() error { return e.Err }

// EvalCause says why an evaluation gave no boolean.
type EvalCause string

const (
	// EvalMissingField: the input lacks a field, key or list index the
	// expression reads; usually the object is not there yet.
	EvalMissingField EvalCause = "MissingField"
	// EvalCostLimit: the evaluation exceeded the cost limit.
	EvalCostLimit EvalCause = "CostLimit"
	// EvalTimeLimit: the evaluation ran longer than evalTimeLimit.
	EvalTimeLimit EvalCause = "TimeLimit"
	// EvalInterrupted: the context ended during the evaluation.
	EvalInterrupted EvalCause = "Interrupted"
	// EvalNotBool: the result is not a bool; Detail is its type name.
	EvalNotBool EvalCause = "NotBool"
	// EvalFailed: any other evaluation error.
	EvalFailed EvalCause = "Failed"
)

// EvalError is an evaluation that gave no boolean. It holds the expression
// and a category, never a value of the input or one computed from it: a
// tenant may point an expression at a Secret, and this message ends in a
// condition everybody with read access to the tenant's objects can see.
type EvalError struct {
	Expression string
	Cause      EvalCause
	// Detail is a message known to carry no value: a type name, a fixed
	// cel-go message, or a field name that appears in Expression.
	Detail string

	ctxErr error // for EvalInterrupted
}

func (e *EvalError) Error() string {
	switch e.Cause {
	case EvalNotBool:
		return fmt.Sprintf("expression %q returned a value of type %s, not a bool", shortExpression(e.Expression), e.Detail)
	case EvalCostLimit:
		return fmt.Sprintf("expression %q exceeds the cost limit of %d", shortExpression(e.Expression), celCostLimit)
	case EvalTimeLimit:
		return fmt.Sprintf("expression %q exceeds the time limit of %s", shortExpression(e.Expression), evalTimeLimit)
	case EvalInterrupted:
		return fmt.Sprintf("expression %q was interrupted: %s", shortExpression(e.Expression), e.Detail)
	}
	return fmt.Sprintf("expression %q failed to evaluate: %s", shortExpression(e.Expression), e.Detail)
}

// shortExpression is expr as a message quotes it: whole when short, else
// its start, so that a long expression does not bury what went wrong.
func shortExpression(expr string) string {
	const max = 120
	if len(expr) <= max {
		return expr
	}
	return expr[:max] + "…"
}

// Unwrap returns the context's error of an interrupted evaluation. The
// cel-go error is deliberately not kept: its message may quote values.
func (e *EvalError) Unwrap() error { return e.ctxErr }

// IsMissingField tells whether err is an evaluation that read a field, key
// or list index its input does not have (yet): callers waiting for an
// object treat it as not ready rather than as an error.
func IsMissingField(err error) bool { return hasCause(err, EvalMissingField) }

// IsCostLimit tells whether err is an evaluation that exceeded the cost
// limit or the time limit.
func IsCostLimit(err error) bool { return hasCause(err, EvalCostLimit) || hasCause(err, EvalTimeLimit) }

// IsNotBool tells whether err is an evaluation whose result is not a bool.
func IsNotBool(err error) bool { return hasCause(err, EvalNotBool) }

// evalTimeLimit bounds one evaluation besides its cost: cel-go charges a
// list literal a fixed cost whatever its length and builds it again on
// every iteration of a loop, so an expression well within the cost limit
// (say [1,...,20000].all(x, [1,...,20000].size() > 0)) can still run for
// many seconds. Evaluations of readiness over one object take
// microseconds; a second is far beyond any honest one. A variable only so
// that a test of the cost limit is not raced by it on a loaded machine.
var evalTimeLimit = time.Second

func hasCause(err error, c EvalCause) bool {
	var e *EvalError
	return errors.As(err, &e) && e.Cause == c
}

// missingPrefixes are the cel-go messages of a missing field, key or index,
// or of an absent optional value. What follows them is a name or index that
// may come from the input (a key computed from a value), so it is kept only
// when the expression itself spells it.
var missingPrefixes = []string{"no such key", "no such attribute(s)", "no such field", "index out of bounds", "optional.none() dereference"}

// failedPrefixes are other cel-go messages followed by an index that may be
// computed from a value, kept on the same terms.
var failedPrefixes = []string{"index out of range"}

// safeMessages are cel-go evaluation messages that never carry a value:
// fixed texts, or ones that name only types and functions.
var safeMessages = []*regexp.Regexp{
	regexp.MustCompile(`^(division by zero|modulus by zero|integer overflow|unsigned integer overflow|duration overflow|timestamp overflow|no such overload|operation interrupted)$`),
	regexp.MustCompile(`^type conversion error from '[A-Za-z0-9_.]+' to '[A-Za-z0-9_.]+'$`),
	regexp.MustCompile(`^no such overload: [A-Za-z0-9_.]+\([A-Za-z0-9_., ()]*\)$`),
}

// nameLike is what a field name or index echoed from a missing-field
// message must look like.
var nameLike = regexp.MustCompile(`^[A-Za-z0-9_.\-/]{1,253}$`)

// evalError turns a cel-go evaluation error into an *EvalError without any
// value in it.
func evalError(src string, err error) *EvalError {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return &EvalError{Expression: src, Cause: EvalCostLimit}
	}
	msg := err.Error()
	if detail, ok := withSpelledName(src, msg, missingPrefixes); ok {
		return &EvalError{Expression: src, Cause: EvalMissingField, Detail: detail}
	}
	if detail, ok := withSpelledName(src, msg, failedPrefixes); ok {
		return &EvalError{Expression: src, Cause: EvalFailed, Detail: detail}
	}
	for _, re := range safeMessages {
		if re.MatchString(msg) {
			return &EvalError{Expression: src, Cause: EvalFailed, Detail: msg}
		}
	}
	return &EvalError{Expression: src, Cause: EvalFailed, Detail: "the error is not shown as it may quote the values read"}
}

// withSpelledName returns the prefix of msg that is one of prefixes, with
// the name or index that follows it only when src spells it.
func withSpelledName(src, msg string, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if !strings.HasPrefix(msg, p) {
			continue
		}
		name := strings.Trim(strings.TrimPrefix(msg, p), ` :'"`)
		if nameLike.MatchString(name) && strings.Contains(src, name) {
			return p + ": " + name, true
		}
		return p, true
	}
	return "", false
}

func newCELEnv(variables []string) (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.OptionalTypes(),
		cel.ParserExpressionSizeLimit(celMaxExpressionLength),
		ext.Strings(), ext.Lists(), ext.Sets(), ext.Math(), ext.Encoders(),
	}
	for _, name := range variables {
		opts = append(opts, cel.Variable(name, cel.DynType))
	}
	return cel.NewEnv(opts...)
}

func compileBool(env *cel.Env, src string) (*BoolExpression, error) {
	ast, issues := env.Compile(src)
	if issues != nil && issues.Err() != nil {
		return nil, &InvalidExpressionError{Expression: src, Err: issues.Err()}
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) && !t.IsExactType(types.DynType) {
		return nil, &InvalidExpressionError{Expression: src, Err: fmt.Errorf("result is %s, want bool", t)}
	}
	prg, err := env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(celInterruptCheckFrequency))
	if err != nil {
		return nil, &InvalidExpressionError{Expression: src, Err: err}
	}
	return &BoolExpression{src: src, prg: prg}, nil
}
