package envsubst

import (
	"errors"
	"strings"
	"testing"
)

// FuzzSubstitute checks that no input panics or hangs, that every failure
// is a positioned *Error of a known kind, that text without "${" passes
// through unchanged, that expansion is deterministic and that the output
// never exceeds its budget, the default one or a small one (which either
// holds the output or fails with ErrExpansionTooLarge). Its seed corpus
// (the table of TestSubstitute) runs with every `go test`.
func FuzzSubstitute(f *testing.F) {
	for _, tc := range substCases {
		f.Add(tc.in, tc.strict)
	}
	f.Add("key: ${a:-${b:=${c/#x/y}}}\n  other: $${d} ${e:1:2}", true)
	f.Add("${a//[[:alpha:]]*?[!b-]/\\}}", false)
	f.Add("${a//?/${a}${a}} ${a^^} ${a/#/${a}}", true)
	f.Fuzz(func(t *testing.T, in string, strict bool) {
		got, err := Substitute(in, testVars, strict)
		if len(got) > DefaultMaxOutput(len(in)) {
			t.Fatalf("output of %d bytes exceeds the budget of %d", len(got), DefaultMaxOutput(len(in)))
		}
		checkSmallBudget(t, in, strict)
		if err != nil {
			checkError(t, err, got)
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

// smallBudget is the output budget checkSmallBudget sets.
const smallBudget = 64

// checkSmallBudget expands in with a small output budget: it must either
// fit or fail with ErrExpansionTooLarge (or another kind of error).
func checkSmallBudget(t *testing.T, in string, strict bool) {
	t.Helper()
	if !strings.Contains(in, "${") {
		return
	}
	got, err := SubstituteWith(in, testVars, Options{Strict: strict, MaxOutput: smallBudget})
	if err != nil {
		checkError(t, err, got)
		return
	}
	if len(got) > smallBudget {
		t.Fatalf("output of %d bytes exceeds the budget of %d", len(got), smallBudget)
	}
}

// checkError checks that err is a positioned *Error of a known kind,
// returned without output.
func checkError(t *testing.T, err error, got string) {
	t.Helper()
	var one *Error
	if !errors.As(err, &one) {
		t.Fatalf("error %T (%v) is not an *Error", err, err)
	}
	if one.Line < 1 || one.Column < 1 {
		t.Fatalf("error %q has no position", err)
	}
	if !errors.Is(err, ErrUnset) && !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrUnsupported) &&
		!errors.Is(err, ErrValue) && !errors.Is(err, ErrExpansionTooLarge) {
		t.Fatalf("error %q has no known kind", err)
	}
	if got != "" {
		t.Fatalf("output %q returned with error %v", got, err)
	}
}
