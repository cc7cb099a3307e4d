package kustomize

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/manager"
)

func TestDefaultsFollowFlux(t *testing.T) {
	o := DefaultOptions()
	if o.ConcurrentSSA != 4 || o.HTTPRetry != 9 || o.NoRemoteBases {
		t.Errorf("defaults: %+v", o)
	}
}

// The command line reaches the options the group sets up with.
func TestFlagsBindTheGroupsOptions(t *testing.T) {
	c := New(DefaultOptions())
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c.Flags(fs)
	var opts manager.Options
	opts.BindFlags(fs)
	if err := fs.Parse([]string{"--no-remote-bases", "--concurrent-ssa=2", "--watch-configs-label-selector=a=b"}); err != nil {
		t.Fatal(err)
	}
	by, err := c.Cache(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(by) != 2 {
		t.Errorf("cache narrows %d kinds, want ConfigMaps and Secrets", len(by))
	}
	for _, b := range by {
		if b.Label.String() != "a=b" {
			t.Errorf("cache selector %q, want a=b", b.Label)
		}
	}
}
