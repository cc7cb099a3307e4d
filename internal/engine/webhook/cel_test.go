package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/engine/webhook"
)

func TestFilters(t *testing.T) {
	res := map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "app", "namespace": "apps", "annotations": map[string]any{"update-image": "app"}}}
	req := map[string]any{"tag": "app:1.0.0", "ref": "refs/heads/main"}
	cases := []struct {
		expr    string
		want    bool
		compile string // compile error, when expected
		eval    string // evaluation error, when expected
	}{
		{expr: `res.metadata.name == 'app'`, want: true},
		{expr: `res.metadata.name == 'other'`, want: false},
		{expr: `req.tag.split(':')[0] == res.metadata.annotations['update-image']`, want: true},
		{expr: `req.ref.endsWith('/main') && res.kind == 'GitRepository'`, want: true},
		{expr: `size(claims) == 0`, want: true},
		{expr: `res.metadata.name`, eval: "not bool"},
		{expr: `req.missing == 'x'`, eval: "no such key"},
		{expr: `1 + 1`, compile: "returns int"},
		{expr: `res.metadata.name ==`, compile: "Syntax error"},
		{expr: `unknownVar == 1`, compile: "undeclared reference"},
		{expr: strings.Repeat("a", 5000), compile: "longer than"},
		// A filter that would run for ever is stopped by the cost limit.
		{expr: `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))`, eval: "cost"},
	}
	for _, tc := range cases {
		name := tc.expr
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			f, err := webhook.CompileFilter(tc.expr)
			if tc.compile != "" {
				if err == nil || !strings.Contains(err.Error(), tc.compile) {
					t.Fatalf("compile error %v, want one saying %q", err, tc.compile)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := f.Match(context.Background(), webhook.Vars{Res: res, Req: req})
			if tc.eval != "" {
				if err == nil || !strings.Contains(err.Error(), tc.eval) {
					t.Fatalf("evaluation error %v, want one saying %q", err, tc.eval)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// A body that is not JSON reads as an empty 'req', not as an error.
func TestFilterWithoutJSONBody(t *testing.T) {
	f, err := webhook.CompileFilter(`!has(req.ref)`)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := f.Match(context.Background(), webhook.Vars{})
	if err != nil || !ok {
		t.Fatalf("got %v, %v", ok, err)
	}
}
