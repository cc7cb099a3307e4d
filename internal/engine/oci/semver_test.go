package oci

import (
	"errors"
	"testing"
)

func TestSemverPicker(t *testing.T) {
	tags := []string{"latest", "0.9.0", "1.0.0", "v1.3.0", "1.2.0", "2.0.0-rc.1", "1.4.0-beta.1", "main-abc", "1.2"}
	for _, tc := range []struct {
		rng, filter, want string
	}{
		{">=1.0.0", "", "v1.3.0"}, // prereleases left out, tag kept as written
		{"1.x", "", "v1.3.0"},
		{"~1.2", "", "1.2.0"}, // "1.2" and "1.2.0" are equal: the greater tag
		{">=1.0.0-0", "", "2.0.0-rc.1"},
		{">=1.4.0-0 <1.5.0", "", "1.4.0-beta.1"},
		{">=1.4.0-0 <2.0.0", "", "2.0.0-rc.1"}, // below 2.0.0 in semver
		{"<1.0.0", "", "0.9.0"},
		{"*", `^\d+\.\d+\.\d+$`, "1.2.0"},
		{">=0.0.0-0", `^v`, "v1.3.0"},
	} {
		p, err := newSemverPicker(tc.rng, tc.filter)
		if err != nil {
			t.Fatalf("%q: %v", tc.rng, err)
		}
		got, err := p.highest(tags)
		if err != nil || got != tc.want {
			t.Errorf("range %q filter %q: got %q, %v; want %q", tc.rng, tc.filter, got, err, tc.want)
		}
	}
}

func TestSemverPickerNoMatch(t *testing.T) {
	p, err := newSemverPicker(">=3.0.0", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.highest([]string{"latest", "1.0.0", "2.1.0", "2.2.0-rc.1"})
	var nm *NoMatchError
	if !errors.As(err, &nm) {
		t.Fatalf("err = %v, want a *NoMatchError", err)
	}
	if nm.Tags != 4 || nm.Versions != 3 || nm.Highest != "2.2.0-rc.1" {
		t.Errorf("NoMatchError = %+v", nm)
	}
	if got, want := nm.Error(), "4 tags seen, 3 of them versions, the highest 2.2.0-rc.1"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestSemverPickerInvalid(t *testing.T) {
	if _, err := newSemverPicker("not a range", ""); err == nil {
		t.Error("a bad range was accepted")
	}
	if _, err := newSemverPicker(">=1.0.0", "("); err == nil {
		t.Error("a bad filter was accepted")
	}
}
