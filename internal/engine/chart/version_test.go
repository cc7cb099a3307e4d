package chart

import (
	"errors"
	"testing"
)

func TestPickVersion(t *testing.T) {
	versions := []string{"0.9.0", "1.0.0", "1.1.0", "1.1.5", "1.2.0-rc.1", "1.2.0", "1.10.0", "2.0.0-beta.1", "not-semver", "3.0.0+build.7"}
	tests := []struct {
		rangeExpr string
		want      string
	}{
		{"1.1.0", "1.1.0"},
		{"=1.1.5", "1.1.5"},
		{"1.x", "1.10.0"},
		{"~1.1", "1.1.5"},
		{"~1.1.0", "1.1.5"},
		{"^1.1.0", "1.10.0"},
		{">=1.0.0 <2.0.0", "1.10.0"},
		{">=1.0.0, <1.2.0", "1.1.5"},
		{"*", "3.0.0+build.7"},
		{"", "3.0.0+build.7"},
		{"<2.0.0", "1.10.0"},
		// A range naming a pre-release admits pre-releases.
		{">=2.0.0-0 <3.0.0", "2.0.0-beta.1"},
		{"1.2.0-rc.1", "1.2.0-rc.1"},
		{"~1.2.0-0", "1.2.0"},
		{">=1.2.0-0 <1.2.0", "1.2.0-rc.1"},
		// An exact string that is not semver matches itself, as in Helm's index.
		{"not-semver", "not-semver"},
		{"3.0.0+build.7", "3.0.0+build.7"},
	}
	for _, tt := range tests {
		t.Run(tt.rangeExpr, func(t *testing.T) {
			got, err := PickVersion(versions, tt.rangeExpr)
			if err != nil || got != tt.want {
				t.Fatalf("PickVersion(%q) = %q, %v; want %q", tt.rangeExpr, got, err, tt.want)
			}
		})
	}
}

func TestPickVersionWithoutPreReleasesInRange(t *testing.T) {
	// Only pre-releases in 2.x: a plain range does not pick them.
	_, err := PickVersion([]string{"1.0.0", "2.0.0-rc.1", "2.1.0-alpha"}, "2.x")
	var nv *NoVersionError
	if !errors.As(err, &nv) {
		t.Fatalf("got %v, want a NoVersionError", err)
	}
	got, err := PickVersion([]string{"1.0.0", "2.0.0-rc.1"}, "*")
	if err != nil || got != "1.0.0" {
		t.Fatalf("* picked %q, %v; want 1.0.0", got, err)
	}
}

func TestPickVersionErrors(t *testing.T) {
	_, err := PickVersion([]string{"1.0.0", "2.0.0"}, "9.*")
	var nv *NoVersionError
	if !errors.As(err, &nv) || err.Error() != "no chart with version matching '9.*' found" {
		t.Fatalf("got %v, want a NoVersionError", err)
	}
	nv.Chart = "x"
	if want := "no 'x' chart with version matching '9.*' found"; err.Error() != want {
		t.Fatalf("with the chart: %q, want %q", err.Error(), want)
	}
	_, err = PickVersion(nil, "")
	if !errors.As(err, &nv) || nv.Range != "*" {
		t.Fatalf("no versions at all: got %v", err)
	}
	_, err = PickVersion([]string{"1.0.0"}, ">=1.0.0 <<2")
	var re *RangeError
	if !errors.As(err, &re) || errors.As(err, &nv) || re.Range != ">=1.0.0 <<2" {
		t.Fatalf("bad range: got %v, want a RangeError only", err)
	}
}

func TestPickVersionIgnoresOrderOfEqualVersions(t *testing.T) {
	a, _ := PickVersion([]string{"1.0.0+a", "1.0.0+b"}, "1.x")
	b, _ := PickVersion([]string{"1.0.0+b", "1.0.0+a"}, "1.x")
	if a != "1.0.0+b" || b != a {
		t.Fatalf("got %q and %q, want 1.0.0+b both times", a, b)
	}
}
