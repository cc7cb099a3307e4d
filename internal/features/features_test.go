package features

import (
	"strings"
	"testing"
)

func TestSetParsesFluxsSyntax(t *testing.T) {
	var v Values
	if err := v.Set("A=true, B=false,,C=TRUE"); err != nil {
		t.Fatal(err)
	}
	if err := v.Set("A=false"); err != nil { // a repeated flag adds, the later wins
		t.Fatal(err)
	}
	if got := v.String(); got != "A=false,B=false,C=true" {
		t.Errorf("parsed %q", got)
	}
	for _, bad := range []string{"A", "=true", "A=yes", "A=1x"} {
		var v Values
		if err := v.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !strings.Contains(err.Error(), "--feature-gates") {
			t.Errorf("%q: %v does not name the flag", bad, err)
		}
	}
}

func TestEnabledFallsBackToTheGatesDefault(t *testing.T) {
	on, off := Gate{Name: "On", Default: true}, Gate{Name: "Off"}
	v := Values{}
	if !v.Enabled(on) || v.Enabled(off) {
		t.Error("defaults not used")
	}
	v = Values{"On": false, "Off": true}
	if v.Enabled(on) || !v.Enabled(off) {
		t.Error("explicit values not used")
	}
}

func TestCheck(t *testing.T) {
	known := []Gate{{Name: "A"}, {Name: "B", Default: true}, {Name: "A"}, {Name: "Cloud", Unsupported: "no cloud identity"}}
	for _, tc := range []struct {
		v    Values
		want []string // "" means accepted
	}{
		{Values{"A": true, "B": false, "Cloud": false}, nil},
		{Values{"Nope": true}, []string{`"Nope"`, "A=false", "B=true", "Cloud=false"}},
		{Values{"Cloud": true}, []string{"Cloud=true", "no cloud identity", "set it to false"}},
	} {
		err := tc.v.Check(known)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%v refused: %v", tc.v, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v accepted", tc.v)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q does not say %q", tc.v, err, w)
			}
		}
	}
	if got := Names(known); strings.Count(got, "A=false") != 1 {
		t.Errorf("Names repeats a gate two groups know: %s", got)
	}
}
