package health_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
)

func expr(apiVersion, kind, inProgress, failed, current string) meta.CustomHealthCheck {
	return meta.CustomHealthCheck{APIVersion: apiVersion, Kind: kind, HealthCheckExpressions: meta.HealthCheckExpressions{
		InProgress: inProgress, Failed: failed, Current: current,
	}}
}

// TestCompileChecksRejectsBadEntries: each unusable entry is an
// *ExpressionError naming the entry, the field and the problem, and maps to
// the InvalidCELExpression reason.
func TestCompileChecksRejectsBadEntries(t *testing.T) {
	ok := expr("example.com/v1", "Widget", "", "", "status.phase == 'Ready'")
	cases := []struct {
		name  string
		specs []meta.CustomHealthCheck
		want  []string
	}{
		{"syntax error", []meta.CustomHealthCheck{expr("example.com/v1", "Widget", "", "", "status.phase == ")},
			[]string{"healthCheckExprs[0]", "example.com/v1 Widget", "current expression", "Syntax error"}},
		{"not boolean", []meta.CustomHealthCheck{ok, expr("example.com/v1", "Gadget", "", "1 + 2", "true")},
			[]string{"healthCheckExprs[1]", "failed expression", `"1 + 2"`, "want bool"}},
		{"undeclared variable", []meta.CustomHealthCheck{expr("example.com/v1", "Widget", "object.status.phase == 'x'", "", "true")},
			[]string{"inProgress expression", "undeclared reference to 'object'"}},
		{"unknown function", []meta.CustomHealthCheck{expr("example.com/v1", "", "", "", "status.phase.isReady()")},
			[]string{"healthCheckExprs[0] (example.com/v1)", "isReady"}},
		{"no current", []meta.CustomHealthCheck{expr("example.com/v1", "Widget", "", "status.phase == 'Broken'", " ")},
			[]string{"healthCheckExprs[0]", "current expression is required"}},
		{"no apiVersion", []meta.CustomHealthCheck{expr("", "Widget", "", "", "true")},
			[]string{"healthCheckExprs[0]", "apiVersion is required"}},
		{"bad apiVersion", []meta.CustomHealthCheck{expr("example.com/v1/extra", "Widget", "", "", "true")},
			[]string{"healthCheckExprs[0]", "example.com/v1/extra", "apiVersion"}},
		{"duplicate", []meta.CustomHealthCheck{ok, expr("example.com/v2", "Widget", "", "", "true")},
			[]string{"healthCheckExprs[1]", "same API group and kind as healthCheckExprs[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := health.CompileChecks(tc.specs)
			var exprErr *health.ExpressionError
			if !errors.As(err, &exprErr) {
				t.Fatalf("err = %v, want *ExpressionError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if r := health.Reason(err); r != meta.InvalidCELExpressionReason {
				t.Errorf("Reason = %s, want %s", r, meta.InvalidCELExpressionReason)
			}
		})
	}
}

// TestCustomChecks evaluates healthCheckExprs on objects from testdata/cel;
// messages are kept in testdata/cel.golden.
func TestCustomChecks(t *testing.T) {
	phase := expr("example.com/v1", "Widget", "", "status.phase == 'Broken'", "status.phase == 'Ready'")
	cases := []struct {
		name   string
		file   string
		checks []meta.CustomHealthCheck
		want   health.State
	}{
		{"current matches", "widget-ready", []meta.CustomHealthCheck{phase}, health.Current},
		{"the expression overrules kstatus", "widget-ready", []meta.CustomHealthCheck{phase}, health.Current},
		{"a generation not observed yet waits", "widget-stale", []meta.CustomHealthCheck{phase}, health.InProgress},
		{"failed matches", "widget-broken", []meta.CustomHealthCheck{phase}, health.Failed},
		{"inProgress is evaluated first", "widget-broken", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "true", "true", "true")}, health.InProgress},
		{"failed before current", "widget-broken", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "false", "true", "true")}, health.Failed},
		{"nothing matches", "widget-broken", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "", "status.phase == 'Gone'", "status.phase == 'Ready'")}, health.InProgress},
		{"missing field waits", "widget-new", []meta.CustomHealthCheck{phase}, health.InProgress},
		{"optional field access", "widget-new", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "", "", "self.?status.phase.orValue('') == '' && spec.size == 1")}, health.Current},
		{"self is the object", "widget-ready", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "", "", "self.metadata.name == 'ready' && self.kind == 'Widget'")}, health.Current},
		{"conditions filter", "widget-broken", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "", "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')",
				"status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')")}, health.Failed},
		{"dynamic result that is not a bool", "widget-ready", []meta.CustomHealthCheck{
			expr("example.com/v1", "Widget", "", "", "status.phase")}, health.InProgress},
		{"group-wide entry", "gadget-ready", []meta.CustomHealthCheck{
			expr("example.com/v1", "", "", "", "status.healthy")}, health.Current},
		{"kind entry wins over group entry", "gadget-ready", []meta.CustomHealthCheck{
			expr("example.com/v1", "", "", "", "true"),
			expr("example.com/v1", "Gadget", "", "", "false")}, health.InProgress},
		{"version does not matter", "widget-ready", []meta.CustomHealthCheck{
			expr("example.com/v1beta1", "Widget", "", "", "status.phase == 'Ready'")}, health.Current},
		{"other groups keep kstatus", "deployment-unready", []meta.CustomHealthCheck{
			expr("example.com/v1", "", "", "", "true")}, health.InProgress},
		{"other kinds keep kstatus", "widget-ready", []meta.CustomHealthCheck{
			expr("example.com/v1", "Gadget", "", "", "false")}, health.InProgress},
		{"deletion wins", "widget-deleting", []meta.CustomHealthCheck{phase}, health.Terminating},
	}
	var lines []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checks, err := health.CompileChecks(tc.checks)
			if err != nil {
				t.Fatal(err)
			}
			got := checks.Status(context.Background(), load(t, filepath.Join("testdata", "cel", tc.file+".yaml")))
			if got.Status != tc.want {
				t.Errorf("status %s (%q), want %s", got.Status, got.Message, tc.want)
			}
			lines = append(lines, fmt.Sprintf("%s: %s: %s", tc.name, got.Status, got.Message))
		})
	}
	golden(t, filepath.Join("testdata", "cel.golden"), strings.Join(lines, "\n")+"\n")
}

func TestNoCustomChecksIsKstatus(t *testing.T) {
	var none *health.CustomChecks
	obj := load(t, filepath.Join("testdata", "cel", "widget-ready.yaml"))
	if got, want := none.Status(context.Background(), obj), health.Status(obj); got != want {
		t.Errorf("nil checks: %+v, want %+v", got, want)
	}
	checks, err := health.CompileChecks(nil)
	if err != nil || checks.Len() != 0 {
		t.Fatalf("CompileChecks(nil) = %v, %v", checks, err)
	}
}
