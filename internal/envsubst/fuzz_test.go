package envsubst

import (
	"errors"
	"strings"
	"testing"
)

// FuzzSubstitute checks that no input panics or hangs, that every failure
// is a positioned *Error of a known kind, that text without "${" passes
// through unchanged and that expansion is deterministic. Its seed corpus
// (the table of TestSubstitute) runs with every `go test`.
func FuzzSubstitute(f *testing.F) {
	for _, tc := range substCases {
		f.Add(tc.in, tc.strict)
	}
	f.Add("key: ${a:-${b:=${c/#x/y}}}\n  other: $${d} ${e:1:2}", true)
	f.Add("${a//[[:alpha:]]*?[!b-]/\\}}", false)
	f.Fuzz(func(t *testing.T, in string, strict bool) {
		got, err := Substitute(in, testVars, strict)
		if err != nil {
			var one *Error
			if !errors.As(err, &one) {
				t.Fatalf("error %T (%v) is not an *Error", err, err)
			}
			if one.Line < 1 || one.Column < 1 {
				t.Fatalf("error %q has no position", err)
			}
			if !errors.Is(err, ErrUnset) && !errors.Is(err, ErrSyntax) &&
				!errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrValue) {
				t.Fatalf("error %q has no known kind", err)
			}
			if got != "" {
				t.Fatalf("output %q returned with error %v", got, err)
			}
			return
		}
		if !strings.Contains(in, "${") && got != in {
			t.Fatalf("input without ${ changed: %q -> %q", in, got)
		}
		again, err := Substitute(in, testVars, strict)
		if err != nil || again != got {
			t.Fatalf("second expansion differs: %q, %v (first %q)", again, err, got)
		}
	})
}
