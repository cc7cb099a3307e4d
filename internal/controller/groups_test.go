package controller

import (
	"slices"
	"testing"

	"github.com/driftless/driftless/internal/controller/names"
)

// The plain list the flux CLI reads must name exactly the groups that
// register, or flux install would deploy controllers that do not run.
func TestAllAreTheImplementedNames(t *testing.T) {
	var got []string
	for _, c := range All() {
		got = append(got, c.Name)
	}
	if !slices.Equal(got, names.Implemented) {
		t.Errorf("All() registers %v; names.Implemented is %v", got, names.Implemented)
	}
	for _, n := range names.Implemented {
		if !slices.Contains(names.All, n) {
			t.Errorf("%q is implemented but not one of Flux's groups %v", n, names.All)
		}
	}
}
