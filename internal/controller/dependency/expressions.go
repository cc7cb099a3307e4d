package dependency

import (
	"sync"

	"github.com/driftless/driftless/internal/engine/health"
)

// Expressions compiles readyExprs once each and keeps them, at most
// maxExpressions of them: a tenant writing ever new expressions makes the
// cache start over, not grow. The zero value is ready to use.
type Expressions struct {
	mu    sync.Mutex
	cache map[string]*health.BoolExpression
}

const maxExpressions = 1024

func (x *Expressions) compile(expr string) (*health.BoolExpression, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.cache[expr]; ok {
		return e, nil
	}
	e, err := health.CompileBool(expr, "self", "dep")
	if err != nil {
		return nil, err
	}
	if x.cache == nil || len(x.cache) >= maxExpressions {
		x.cache = map[string]*health.BoolExpression{}
	}
	x.cache[expr] = e
	return e, nil
}
