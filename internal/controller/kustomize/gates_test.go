package kustomize

import (
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/features"
)

// A Flux kustomize-controller's --feature-gates carry over: its gates at
// their defaults are accepted; one Driftless does not build is refused
// away from its default, saying why; an unknown one is refused.
func TestKustomizeGates(t *testing.T) {
	for gates, want := range map[string]string{
		"StrictPostBuildSubstitutions=true,DisableStatusPollerCache=true,GroupChangeLog=false": "",
		"DisableConfigWatchers=true,ExternalArtifact=false":                                    "",
		"StrictPostBuildSubstitutions=false":                                                   "StrictPostBuildSubstitutions=false is not supported",
		"GroupChangeLog=true":                                                                  "GroupChangeLog=true is not supported",
		"NoSuchGate=true":                                                                      `unknown feature gate "NoSuchGate"`,
	} {
		var v features.Values
		if err := v.Set(gates); err != nil {
			t.Fatal(err)
		}
		err := v.Check(Gates)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: refused: %v", gates, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", gates, err, want)
		}
	}
}
