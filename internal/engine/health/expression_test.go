package health_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
)

// secretValues are the values of testdata/cel/secret.yaml, decoded and
// base64-encoded as the object holds them.
var secretValues = []string{"hunter2-secret", "aHVudGVyMi1zZWNyZXQ=", "123456789", "MTIzNDU2Nzg5"}

// TestEvaluatedValuesAreNeverEchoed points healthCheckExprs at a Secret with
// expressions that return its values or fold them into cel-go's error
// messages: neither the values nor their base64 may reach the message, which
// becomes a condition the tenant can read.
func TestEvaluatedValuesAreNeverEchoed(t *testing.T) {
	secret := load(t, filepath.Join("testdata", "cel", "secret.yaml"))
	decoded := "string(base64.decode(data.password))"
	count := "int(string(base64.decode(data.count)))"
	cases := []struct {
		name, expr string
		want       string // a safe part the message must keep
	}{
		{"string result", "data.password", "returned a value of type string, not a bool"},
		{"bytes result", "dyn(base64.decode(data.password))", "returned a value of type bytes"},
		{"map result", "dyn({'p': data.password})", "returned a value of type map"},
		{"optional result", "dyn(optional.of(data.password))", "returned a value of type optional_type"},
		{"conditional result", "data.password == '' ? dyn(true) : dyn(" + decoded + ")", "returned a value of type string"},
		{"conversion", "int(data.password) == 1", "type conversion error from 'string' to 'int'"},
		{"decoded conversion", "int(" + decoded + ") == 0", "type conversion error"},
		{"key from a value", "data[data.password] == 'x'", "failed to evaluate: no such key"},
		{"key from a decoded value", "data[" + decoded + "] == 'x'", "failed to evaluate: no such key"},
		{"key inside a comprehension", "[1, 2].exists(y, data[" + decoded + "] == 'x')", "no such key"},
		{"index from a value", "[1][" + count + "] == 1", "index out of bounds"},
		{"string index from a value", "'x'.charAt(" + count + ") == 'x'", "index out of range"},
		{"overflow", count + " * 100000000000 > 0", "integer overflow"},
		{"regular expression from a value", "'x'.matches(" + decoded + " + '(')", "not shown"},
		{"timestamp from a value", "timestamp(" + decoded + ") > timestamp('2020-01-01T00:00:00Z')", "type conversion error"},
		{"bad base64", "base64.decode(data.password + '!') == b''", "not shown"},
		{"missing key the expression names", "data.username == 'admin'", "no such key: username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checks, err := health.CompileChecks([]meta.CustomHealthCheck{expr("v1", "Secret", "", "", tc.expr)})
			if err != nil {
				t.Fatal(err)
			}
			got := checks.Status(context.Background(), secret)
			if got.Status != health.InProgress {
				t.Errorf("status %s, want InProgress", got.Status)
			}
			compiled, err := health.CompileBool(tc.expr, "data")
			if err != nil {
				t.Fatal(err)
			}
			_, evalErr := compiled.Eval(context.Background(), map[string]any{"data": secret.Object["data"]})
			if evalErr == nil {
				t.Fatal("Eval gave no error")
			}
			for _, msg := range []string{got.Message, evalErr.Error()} {
				for _, v := range secretValues {
					if strings.Contains(msg, v) {
						t.Errorf("message %q holds the value %q", msg, v)
					}
				}
				if !strings.Contains(msg, tc.want) {
					t.Errorf("message %q lacks %q", msg, tc.want)
				}
			}
		})
	}
}

// TestStaleGenerationIsInProgress: an object whose controller has not seen
// its latest generation is InProgress whatever the expressions say, its old
// Ready=True included; once observed, the expressions decide.
func TestStaleGenerationIsInProgress(t *testing.T) {
	stale := load(t, filepath.Join("testdata", "cel", "widget-stale.yaml"))
	checks, err := health.CompileChecks([]meta.CustomHealthCheck{expr("example.com/v1", "Widget", "", "true",
		"status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')")})
	if err != nil {
		t.Fatal(err)
	}
	got := checks.Status(context.Background(), stale)
	if got.Status != health.InProgress || got.Message != "Widget generation is 3, but latest observed generation is 2" {
		t.Errorf("stale: %+v, want InProgress for the generation", got)
	}
	if err := setNested(stale.Object, int64(3), "status", "observedGeneration"); err != nil {
		t.Fatal(err)
	}
	if got := checks.Status(context.Background(), stale); got.Status != health.Failed {
		t.Errorf("observed: %+v, want the failed expression to decide", got)
	}
	if err := setNested(stale.Object, "3", "status", "observedGeneration"); err != nil {
		t.Fatal(err)
	}
	if got := checks.Status(context.Background(), stale); got.Status != health.InProgress || strings.Contains(got.Message, `"3"`) {
		t.Errorf("malformed observedGeneration: %+v, want InProgress without the value", got)
	}
}

func setNested(obj map[string]any, v any, path ...string) error {
	for _, p := range path[:len(path)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			return errors.New("no ." + p)
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
	return nil
}

// TestCompileBool: compile errors are *InvalidExpressionError (reason
// InvalidCELExpression); only the declared variables exist; a missing field
// is told apart from other evaluation errors; a non-bool result names its
// type, not its value.
func TestCompileBool(t *testing.T) {
	for _, tc := range []struct{ name, expr, want string }{
		{"syntax", "dep.status ==", "Syntax error"},
		{"not boolean", "1 + 2", "want bool"},
		{"undeclared variable", "other.ready", "undeclared reference to 'other'"},
		{"too long", strings.Repeat("true && ", 1250) + "true", "exceeds limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := health.CompileBool(tc.expr, "self", "dep")
			var invalid *health.InvalidExpressionError
			if !errors.As(err, &invalid) || invalid.Expression != tc.expr {
				t.Fatalf("err = %v, want *InvalidExpressionError", err)
			}
			mustContain(t, err, tc.want)
			if r := health.Reason(err); r != meta.InvalidCELExpressionReason {
				t.Errorf("Reason = %s, want %s", r, meta.InvalidCELExpressionReason)
			}
		})
	}

	ready, err := health.CompileBool("dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True') && self.metadata.name != ''", "self", "dep")
	if err != nil {
		t.Fatal(err)
	}
	self := map[string]any{"metadata": map[string]any{"name": "app"}}
	dep := map[string]any{"status": map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}}}
	if ok, err := ready.Eval(context.Background(), map[string]any{"self": self, "dep": dep}); !ok || err != nil {
		t.Errorf("ready dependency: %v, %v", ok, err)
	}
	_, err = ready.Eval(context.Background(), map[string]any{"self": self, "dep": map[string]any{}})
	if !health.IsMissingField(err) || health.IsCostLimit(err) {
		t.Errorf("dependency without status: %v, want a missing field", err)
	}
	mustContain(t, err, "no such key: status")

	phase, err := health.CompileBool("dep.status.phase", "dep")
	if err != nil {
		t.Fatal(err)
	}
	_, err = phase.Eval(context.Background(), map[string]any{"dep": map[string]any{"status": map[string]any{"phase": "Running-secretly"}}})
	var evalErr *health.EvalError
	if !errors.As(err, &evalErr) || evalErr.Cause != health.EvalNotBool || health.IsMissingField(err) {
		t.Fatalf("err = %v, want an EvalNotBool *EvalError", err)
	}
	mustContain(t, err, `expression "dep.status.phase" returned a value of type string, not a bool`)
	if strings.Contains(err.Error(), "Running-secretly") {
		t.Errorf("error %q holds the value", err)
	}
}

// rangeList is a CEL list literal of n ones.
func rangeList(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]"
}

// TestCostLimitStopsExpensiveExpressions: short expressions that would run
// for hours (about 10⁹ and 10¹² steps) end with the cost limit error, in
// BoolExpression.Eval and in health checks alike.
func TestCostLimitStopsExpensiveExpressions(t *testing.T) {
	// Only the cost limit may stop them: on a loaded machine the time
	// limit could come first.
	health.SetEvalTimeLimit(t, time.Hour)
	list := rangeList(1000)
	for _, src := range []string{
		"lists.range(1000).all(x, lists.range(1000).all(y, lists.range(1000).all(z, true)))",
		list + ".all(a, " + list + ".all(b, " + list + ".all(c, " + list + ".all(d, a == d))))",
	} {
		e, err := health.CompileBool(src, "self")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Eval(context.Background(), map[string]any{"self": map[string]any{}})
		if !health.IsCostLimit(err) || health.IsMissingField(err) {
			t.Fatalf("err = %v, want the cost limit", err)
		}
		mustContain(t, err, "exceeds the cost limit of 1000000")

		checks, err := health.CompileChecks([]meta.CustomHealthCheck{expr("example.com/v1", "Widget", "", "", src)})
		if err != nil {
			t.Fatal(err)
		}
		got := checks.Status(context.Background(), load(t, filepath.Join("testdata", "cel", "widget-ready.yaml")))
		if got.Status != health.InProgress || !strings.Contains(got.Message, "current expression") || !strings.Contains(got.Message, "exceeds the cost limit of 1000000") {
			t.Errorf("health check: %+v, want InProgress on the cost limit", got)
		}
	}
}

// TestCancelledContextInterruptsEvaluation: an expression cheap enough for
// the cost limit is still interrupted when its context is cancelled, in
// BoolExpression.Eval and in health checks (which get the wait's context).
func TestCancelledContextInterruptsEvaluation(t *testing.T) {
	src := rangeList(2000) + ".all(x, x == 1)"
	e, err := health.CompileBool(src, "self")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"self": map[string]any{}}
	if ok, err := e.Eval(context.Background(), vars); !ok || err != nil {
		t.Fatalf("uncancelled: %v, %v", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.Eval(ctx, vars)
	var evalErr *health.EvalError
	if !errors.As(err, &evalErr) || evalErr.Cause != health.EvalInterrupted || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want an interrupted evaluation matching context.Canceled", err)
	}
	mustContain(t, err, "was interrupted: context canceled")

	checks, err := health.CompileChecks([]meta.CustomHealthCheck{expr("example.com/v1", "Widget", "", "", src)})
	if err != nil {
		t.Fatal(err)
	}
	widget := load(t, filepath.Join("testdata", "cel", "widget-ready.yaml"))
	if got := checks.Status(context.Background(), widget); got.Status != health.Current {
		t.Fatalf("uncancelled health check: %+v", got)
	}
	if got := checks.Status(ctx, widget); got.Status != health.InProgress || !strings.Contains(got.Message, "interrupted") {
		t.Errorf("cancelled health check: %+v, want InProgress, interrupted", got)
	}
}

// An expression within the cost limit that rebuilds a long list literal on
// every iteration (cel-go charges a literal a fixed cost) is stopped by the
// time limit, and the message says which limit without the whole expression.
func TestTimeLimitStopsSlowExpressions(t *testing.T) {
	short := "[" + strings.Repeat("0,", 150) + "0]"
	long := "[" + strings.Repeat("0,", 2400) + "0]"
	expr := short + ".all(a, " + short + ".all(b, " + long + ".size() > 0))"
	e, err := health.CompileBool(expr, "self")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Eval(context.Background(), map[string]any{"self": map[string]any{}})
	var ev *health.EvalError
	if !errors.As(err, &ev) || ev.Cause != health.EvalTimeLimit || !health.IsCostLimit(err) {
		t.Fatalf("error %v, want the time limit", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "time limit of 1s") || len(msg) > 400 {
		t.Errorf("message %q", msg)
	}
}
