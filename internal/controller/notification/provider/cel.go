package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// Bounds of a commitStatusExpr, which a tenant writes.
const (
	exprCostLimit = 1_000_000
	exprMaxLength = 4096
	exprTimeLimit = time.Second
	// maxStatusKey bounds the key an expression returns.
	maxStatusKey = 1024
)

// statusExpr is a compiled commitStatusExpr over event, provider and alert.
type statusExpr struct {
	prg cel.Program
}

// compiled returns the Provider's commitStatusExpr, compiled once per
// generation.
func (r *Resolver) compiled(p *v1beta3.Provider) (*statusExpr, error) {
	r.mu.Lock()
	c, ok := r.exprs[p.UID]
	r.mu.Unlock()
	if ok && c.generation == p.Generation && c.source == p.Spec.CommitStatusExpr {
		return c.expr, nil
	}
	e, err := compileStatusExpr(p.Spec.CommitStatusExpr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.exprs == nil {
		r.exprs = map[k8stypes.UID]compiledExpr{}
	}
	r.exprs[p.UID] = compiledExpr{generation: p.Generation, source: p.Spec.CommitStatusExpr, expr: e}
	r.mu.Unlock()
	return e, nil
}

// compileStatusExpr compiles src; an expression whose type is known not
// to be a string is refused now rather than at each event.
func compileStatusExpr(src string) (*statusExpr, error) {
	if len(src) > exprMaxLength {
		return nil, fmt.Errorf("the expression is longer than %d bytes", exprMaxLength)
	}
	env, err := cel.NewEnv(
		cel.Variable("event", cel.DynType),
		cel.Variable("provider", cel.DynType),
		cel.Variable("alert", cel.DynType),
		ext.Strings(), ext.Lists(), ext.Encoders(), ext.Math(),
		cel.OptionalTypes(),
	)
	if err != nil {
		return nil, fmt.Errorf("set up CEL: %w", err)
	}
	ast, issues := env.Compile(src)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("CEL expression does not compile: %s", issues.Err())
	}
	if t := ast.OutputType(); t != cel.StringType && t != cel.DynType {
		return nil, fmt.Errorf("CEL expression returns %s, not a string", t)
	}
	prg, err := env.Program(ast, cel.CostLimit(exprCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("CEL expression: %w", err)
	}
	return &statusExpr{prg: prg}, nil
}

// eval returns the commit-status key of e. A failure quotes the CEL
// error; there is never a fall back to the default key.
func (x *statusExpr) eval(e eventv1.Event, vars map[string]any) (string, error) {
	event, err := toMap(e)
	if err != nil {
		return "", err
	}
	all := map[string]any{"event": event, "provider": vars["provider"], "alert": vars["alert"]}
	ctx, cancel := context.WithTimeout(context.Background(), exprTimeLimit)
	defer cancel()
	out, _, err := x.prg.ContextEval(ctx, all)
	if err != nil {
		if ctx.Err() != nil {
			return "", errors.New("commitStatusExpr took longer than 1s")
		}
		return "", fmt.Errorf("commitStatusExpr failed: %s", err)
	}
	key, ok := out.Value().(string)
	if !ok || out.Type() != types.StringType {
		return "", fmt.Errorf("commitStatusExpr returned %s, not a string", out.Type().TypeName())
	}
	if key == "" || len(key) > maxStatusKey {
		return "", fmt.Errorf("commitStatusExpr returned a key of %d bytes; it must have 1 to %d", len(key), maxStatusKey)
	}
	return key, nil
}

// objectVars are the provider and alert as CEL sees them: their JSON.
func objectVars(alert *v1beta3.Alert, p *v1beta3.Provider) (map[string]any, error) {
	pm, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
	if err != nil {
		return nil, fmt.Errorf("convert the Provider for commitStatusExpr: %w", err)
	}
	am, err := runtime.DefaultUnstructuredConverter.ToUnstructured(alert)
	if err != nil {
		return nil, fmt.Errorf("convert the Alert for commitStatusExpr: %w", err)
	}
	return map[string]any{"provider": pm, "alert": am}, nil
}

func toMap(e eventv1.Event) (map[string]any, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode the event for commitStatusExpr: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode the event for commitStatusExpr: %w", err)
	}
	return m, nil
}
