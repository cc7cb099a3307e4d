package helm

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/manager"
)

// A process running the helm group alone takes
// --watch-configs-label-selector and keeps only the selected ConfigMaps
// and Secrets in its cache.
func TestHelmAloneTakesWatchConfigsLabelSelector(t *testing.T) {
	var opts manager.Options
	fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
	manager.BindFlags(fs, &opts, []manager.Controller{Controller()})
	if err := fs.Parse([]string{"--controllers=helm", "--watch-configs-label-selector=team=a"}); err != nil {
		t.Fatal(err)
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	by, err := Controller().Cache(opts)
	if err != nil || len(by) != 2 {
		t.Fatalf("cache: %v %v", by, err)
	}
	for o, b := range by {
		if b.Label.String() != "team=a" {
			t.Errorf("%T cached with selector %q, want team=a", o, b.Label)
		}
	}
}
