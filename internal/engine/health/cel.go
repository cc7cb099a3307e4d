package health

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/api/meta"
)

// celVariables are the names an expression can use: `self` is the whole
// object; its top-level fields are also variables of their own, so Flux's
// `status.conditions...` and `self.status.conditions...` both work.
func celVariables() []string {
	return []string{"self", "apiVersion", "kind", "metadata", "spec", "status", "data"}
}

// CustomChecks are compiled healthCheckExprs. The zero value and nil have no
// checks.
type CustomChecks struct {
	checks []*customCheck
}

type customCheck struct {
	group, kind string
	apiVersion  string
	inProgress  *expression // optional
	failed      *expression // optional
	current     *expression
}

type expression struct {
	field string
	*BoolExpression
}

// ExpressionError is a healthCheckExprs entry that cannot be used: an
// expression that does not compile or is not boolean, a missing apiVersion
// or current expression, or a duplicate entry. The controller stalls on it
// with the InvalidCELExpression reason.
type ExpressionError struct {
	Index      int    // position in healthCheckExprs
	APIVersion string // of the entry
	Kind       string // of the entry, may be empty
	Field      string // inProgress, failed, current, apiVersion or kind
	Expression string
	Err        error
}

func (e *ExpressionError) Error() string {
	target := e.APIVersion
	if e.Kind != "" {
		target += " " + e.Kind
	}
	if e.Expression == "" {
		return fmt.Sprintf("invalid healthCheckExprs[%d] (%s): %s: %v", e.Index, target, e.Field, e.Err)
	}
	return fmt.Sprintf("invalid healthCheckExprs[%d] (%s) %s expression %q: %v", e.Index, target, e.Field, e.Expression, e.Err)
}

func (e *ExpressionError) Unwrap() error { return e.Err }

// CompileChecks compiles healthCheckExprs. The first unusable entry is
// returned as an *ExpressionError.
func CompileChecks(specs []meta.CustomHealthCheck) (*CustomChecks, error) {
	if len(specs) == 0 {
		return &CustomChecks{}, nil
	}
	env, err := newCELEnv(celVariables())
	if err != nil {
		return nil, fmt.Errorf("set up CEL: %w", err)
	}
	out := &CustomChecks{}
	seen := map[schema.GroupKind]int{}
	for i, spec := range specs {
		bad := func(field, src string, err error) error {
			return &ExpressionError{Index: i, APIVersion: spec.APIVersion, Kind: spec.Kind, Field: field, Expression: src, Err: err}
		}
		if spec.APIVersion == "" {
			return nil, bad("apiVersion", "", errors.New("apiVersion is required"))
		}
		gv, err := schema.ParseGroupVersion(spec.APIVersion)
		if err != nil {
			return nil, bad("apiVersion", "", err)
		}
		gk := schema.GroupKind{Group: gv.Group, Kind: spec.Kind}
		if prev, dup := seen[gk]; dup {
			return nil, bad("kind", "", fmt.Errorf("same API group and kind as healthCheckExprs[%d]", prev))
		}
		seen[gk] = i
		if strings.TrimSpace(spec.Current) == "" {
			return nil, bad("current", "", errors.New("the current expression is required"))
		}
		c := &customCheck{group: gv.Group, kind: spec.Kind, apiVersion: spec.APIVersion}
		for _, e := range []struct {
			field, src string
			dst        **expression
		}{
			{"inProgress", spec.InProgress, &c.inProgress},
			{"failed", spec.Failed, &c.failed},
			{"current", spec.Current, &c.current},
		} {
			if strings.TrimSpace(e.src) == "" {
				continue
			}
			compiled, err := compileBool(env, e.src)
			if err != nil {
				var invalid *InvalidExpressionError
				if errors.As(err, &invalid) {
					err = invalid.Err
				}
				return nil, bad(e.field, e.src, err)
			}
			*e.dst = &expression{field: e.field, BoolExpression: compiled}
		}
		out.checks = append(out.checks, c)
	}
	return out, nil
}

// Len is the number of checks.
func (c *CustomChecks) Len() int {
	if c == nil {
		return 0
	}
	return len(c.checks)
}

// match returns the check for an object's group and kind: an entry naming
// the kind wins over one for the whole group.
func (c *CustomChecks) match(gk schema.GroupKind) *customCheck {
	if c == nil {
		return nil
	}
	var groupWide *customCheck
	for _, chk := range c.checks {
		if chk.group != gk.Group {
			continue
		}
		if chk.kind == gk.Kind {
			return chk
		}
		if chk.kind == "" {
			groupWide = chk
		}
	}
	return groupWide
}

// Status computes an object's readiness: with the matching custom check if
// there is one, else with the kstatus rules of Status. An object being
// deleted is Terminating either way.
func (c *CustomChecks) Status(ctx context.Context, obj *unstructured.Unstructured) Result {
	if obj == nil || obj.GetDeletionTimestamp() != nil {
		return Status(obj)
	}
	chk := c.match(obj.GroupVersionKind().GroupKind())
	if chk == nil {
		return Status(obj)
	}
	return chk.evaluate(ctx, obj)
}

// evaluate runs inProgress, failed and current in that order; the first
// that is true decides. Before them, an object whose controller has not
// observed its latest generation is InProgress whatever they say (Flux
// RFC-0009): its status, a Ready=True included, describes an older spec. None true, or an expression that cannot be evaluated
// (a field that is not there yet, say), is InProgress: the object is waited
// for until it matches or the wait times out.
func (chk *customCheck) evaluate(ctx context.Context, obj *unstructured.Unstructured) Result {
	if r, stale := staleGeneration(obj); stale {
		return r
	}
	vars := map[string]any{"self": obj.Object}
	for _, name := range celVariables()[1:] {
		if v, ok := obj.Object[name]; ok {
			vars[name] = v
		}
	}
	for _, step := range []struct {
		e     *expression
		state State
	}{{chk.inProgress, InProgress}, {chk.failed, Failed}, {chk.current, Current}} {
		if step.e == nil {
			continue
		}
		ok, err := step.e.eval(ctx, vars)
		if err != nil {
			return inProgress("healthCheckExprs for %s: %v", chk.apiVersion, err)
		}
		if ok {
			return result(step.state, "healthCheckExprs %s expression is true: %s", step.e.field, step.e.String())
		}
	}
	return inProgress("healthCheckExprs: no expression is true yet")
}

// eval evaluates one expression; its error starts with the field
// ("current expression ...") and, like every EvalError, holds no value.
func (e *expression) eval(ctx context.Context, vars map[string]any) (bool, error) {
	ok, err := e.Eval(ctx, vars)
	if err != nil {
		return false, fmt.Errorf("%s %w", e.field, err)
	}
	return ok, nil
}

// staleGeneration is InProgress for an object whose status.observedGeneration
// is behind its metadata.generation. An object without either field is
// left to the expressions.
func staleGeneration(obj *unstructured.Unstructured) (Result, bool) {
	f := &fields{obj: obj.Object}
	if !f.has("status.observedGeneration") || !f.has("metadata.generation") {
		return Result{}, false
	}
	gen, observed := f.int("metadata.generation", 0), f.int("status.observedGeneration", 0)
	if f.err != nil {
		// Not f.err itself: it would quote the field's value.
		return inProgress("%s status.observedGeneration or metadata.generation is not an integer", obj.GetKind()), true
	}
	if observed < gen {
		return inProgress("%s generation is %d, but latest observed generation is %d", obj.GetKind(), gen, observed), true
	}
	return Result{}, false
}
