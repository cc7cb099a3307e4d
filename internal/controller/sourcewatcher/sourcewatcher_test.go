package sourcewatcher

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/controller/helm"
	"github.com/driftless/driftless/internal/controller/kustomize"
)

// The split layout runs source-watcher alone with --artifact-servers (to
// read source-controller's artifacts); one process with every group
// registers the flag once, in the kustomize group. Both parse.
func TestFetchFlagsAloneAndShared(t *testing.T) {
	for name, others := range map[string]bool{"alone": false, "after kustomize and helm": true} {
		t.Run(name, func(t *testing.T) {
			fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
			if others {
				kustomize.Controller().Flags(fs)
				helm.Controller().Flags(fs)
			}
			g := &group{}
			g.fetch.Bind(fs)
			if err := fs.Parse([]string{"--artifact-servers=source-controller.flux-system.svc.cluster.local.", "--http-retry=3"}); err != nil {
				t.Fatal(err)
			}
			if got := g.fetch.ArtifactServers(); !slices.Equal(got, []string{"source-controller.flux-system.svc.cluster.local."}) {
				t.Errorf("--artifact-servers reads %q", got)
			}
			if got := g.fetch.HTTPRetry(); got != 3 {
				t.Errorf("--http-retry reads %d", got)
			}
		})
	}
}
