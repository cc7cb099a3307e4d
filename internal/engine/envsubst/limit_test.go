package envsubst

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestExpansionBudget feeds values into themselves: before the budget,
// ${v//a/${v}} with a 100 kB value built 10 GB.
func TestExpansionBudget(t *testing.T) {
	v := strings.Repeat("a", 100_000)
	vars := map[string]string{"v": v, "w": v + v + v + v + v + v}
	want := fmt.Sprintf("variable expansion exceeds %d bytes", MinMaxOutput)
	for _, in := range []string{
		"${v//a/${v}}",           // literal pattern
		"${v//[a]/${v}}",         // glob pattern
		"${w/#?/${w}}",           // an anchored glob
		"x: ${v%${v//a/${v}}}",   // a pattern that is never output
		"${v:${v//a/${v}}}",      // an offset
		"${u:-${v//a/${v}}}",     // a default
		"${v//a/${v}${v}${v}}",   // a replacement built of several nodes
		"${w^^}${w,,}${w^^[a]}",  // case changes
		"${w/#/${w}}${w/%/${w}}", // an empty pattern at either end
		strings.Repeat("${w}", 3),
	} {
		got, err := Substitute(in, vars, true)
		if !errors.Is(err, ErrExpansionTooLarge) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40s: error = %.200v, want %q", in, err, want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Line != 1 || e.Column < 1 || got != "" {
			t.Errorf("%.40s: error %#v is not positioned, or output returned", in, e)
		}
	}
}

func TestExpansionBudgetOption(t *testing.T) {
	vars := map[string]string{"v": "0123456789"}
	got, err := SubstituteWith("${v}-${v}", vars, Options{Strict: true, MaxOutput: 21})
	if err != nil || got != "0123456789-0123456789" {
		t.Fatalf("within the budget: %q, %v", got, err)
	}
	_, err = SubstituteWith("${v}-${v}", vars, Options{Strict: true, MaxOutput: 20})
	if !errors.Is(err, ErrExpansionTooLarge) || !strings.Contains(err.Error(), "exceeds 20 bytes") {
		t.Fatalf("over the budget: error = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "line 1, column 6: ${v}:") {
		t.Errorf("error %q does not name the expression that overflowed", err)
	}
	// Errors found before the budget ran out are kept.
	_, err = SubstituteWith("${missing} ${v}${v}${v}", vars, Options{Strict: true, MaxOutput: 20})
	if !errors.Is(err, ErrUnset) || !errors.Is(err, ErrExpansionTooLarge) {
		t.Fatalf("error = %v, want both the unset variable and the budget", err)
	}
	// The default budget is four times the input, at least 1 MiB.
	if DefaultMaxOutput(10) != MinMaxOutput || DefaultMaxOutput(1<<20) != 4<<20 {
		t.Errorf("DefaultMaxOutput = %d, %d", DefaultMaxOutput(10), DefaultMaxOutput(1<<20))
	}
	big := strings.Repeat("x", 2*MinMaxOutput)
	if got, err := Substitute(big+"${v}", vars, true); err != nil || len(got) != len(big)+10 {
		t.Errorf("a large input within four times its length failed: %v", err)
	}
}

// TestWorkOnLargeValues checks that operations that read a large value
// without growing it stay within the work limit, and that repeating them
// reaches it rather than running for minutes.
func TestWorkOnLargeValues(t *testing.T) {
	vars := map[string]string{"v": strings.Repeat("é", 500_000)}
	got, err := Substitute("${#v} ${v:499998} ${v##*é} ${v%%?*}", vars, true)
	if err != nil || got != "500000 éé  " {
		t.Fatalf("got %.40q, %v", got, err)
	}
	_, err = Substitute(strings.Repeat("${#v}", 200), vars, true)
	if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "work limit") {
		t.Fatalf("error = %v, want the work limit", err)
	}
}
