package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
)

// Bounds of one CEL filter: a Receiver's expressions are a tenant's, and
// 'req' is whatever the caller sent.
const (
	// FilterCostLimit bounds the work of one evaluation (cel-go's cost units).
	FilterCostLimit = 1_000_000
	// FilterTimeout bounds the time of one evaluation.
	FilterTimeout = time.Second
	// maxExpressionSize bounds an expression's text.
	maxExpressionSize = 4096
)

// Vars are what a filter reads: 'res' (the object's apiVersion, kind and
// metadata), 'req' (the JSON body, an empty map when it is not JSON) and
// 'claims' (a generic-oidc token's claims, else empty).
type Vars struct {
	Res    map[string]any
	Req    any
	Claims map[string]any
}

// Filter is a compiled resourceFilter or per-resource filter.
type Filter struct {
	program cel.Program
}

// CompileFilter compiles expr, which must return a bool.
func CompileFilter(expr string) (*Filter, error) {
	if len(expr) > maxExpressionSize {
		return nil, fmt.Errorf("expression longer than %d characters", maxExpressionSize)
	}
	env, err := cel.NewEnv(
		cel.Variable("res", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("req", cel.DynType),
		cel.Variable("claims", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
	)
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType().String(); t != "bool" && t != "dyn" {
		return nil, fmt.Errorf("expression returns %s, not bool", t)
	}
	prg, err := env.Program(ast, cel.CostLimit(FilterCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	return &Filter{program: prg}, nil
}

// Match evaluates the filter over v within FilterTimeout.
func (f *Filter) Match(ctx context.Context, v Vars) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, FilterTimeout)
	defer cancel()
	req := v.Req
	if req == nil {
		req = map[string]any{}
	}
	claims := v.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	res := v.Res
	if res == nil {
		res = map[string]any{}
	}
	out, _, err := f.program.ContextEval(ctx, map[string]any{"res": res, "req": req, "claims": claims})
	if err != nil {
		return false, fmt.Errorf("evaluate: %w", err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression returned %s, not bool", out.Type().TypeName())
	}
	return b, nil
}
