package manager

import (
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/features"
)

// --feature-gates reaches Options; a gate applies to every selected group
// that knows it; one no selected group knows is refused, listing those
// the selected groups know.
func TestFeatureGatesAcrossGroups(t *testing.T) {
	shared := features.Gate{Name: "Shared"}
	groups := []Controller{
		{Name: "source", Gates: []features.Gate{shared, {Name: "SourceOnly"}}},
		{Name: "helm", Gates: []features.Gate{shared, {Name: "HelmOnly", Default: true}}},
	}
	var opts Options
	fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
	BindFlags(fs, &opts, groups)
	if err := fs.Parse([]string{"--feature-gates=Shared=true,HelmOnly=false"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckGates(opts, groups); err != nil {
		t.Fatal(err)
	}
	if !opts.FeatureGates.Enabled(shared) || opts.FeatureGates.Enabled(groups[1].Gates[1]) {
		t.Errorf("gates read %v", opts.FeatureGates)
	}
	// With only the source group selected, the helm group's gate is unknown.
	err := CheckGates(opts, groups[:1])
	if err == nil || !strings.Contains(err.Error(), `"HelmOnly"`) || !strings.Contains(err.Error(), "SourceOnly=false") {
		t.Errorf("a gate of an unselected group: %v", err)
	}
	// build refuses it before anything starts (no cluster is needed).
	if _, err := New(nil, opts, groups[:1], logr.Discard()); err == nil || !strings.Contains(err.Error(), "HelmOnly") {
		t.Errorf("New with an unknown gate: %v", err)
	}
	if err := fs.Parse([]string{"--feature-gates=Shared=maybe"}); err == nil || !strings.Contains(err.Error(), "Shared") {
		t.Errorf("a bad value: %v", err)
	}
}
