package helm

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/manager"
)

// --insecure-kubeconfig-exec, --insecure-kubeconfig-tls and
// --artifact-servers (an ExternalArtifact's producer) reach the helm
// group whether the kustomize group registered them first (one process
// with every group) or not (a helm-only command line).
func TestKubeconfigFlagsReachTheHelmGroup(t *testing.T) {
	for name, withKustomize := range map[string]bool{"with kustomize": true, "helm alone": false} {
		t.Run(name, func(t *testing.T) {
			fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
			if withKustomize {
				kustomize.Controller().Flags(fs)
			}
			o := DefaultOptions()
			o.BindFlags(fs)
			if p := o.Kubeconfig.Policy(); p.AllowExec || p.AllowInsecureTLS {
				t.Errorf("defaults allow %+v", p)
			}
			if err := fs.Parse([]string{"--insecure-kubeconfig-exec", "--insecure-kubeconfig-tls", "--artifact-servers=producer.example:8080,https://other.example"}); err != nil {
				t.Fatal(err)
			}
			if p := o.Kubeconfig.Policy(); !p.AllowExec || !p.AllowInsecureTLS {
				t.Errorf("the helm group reads %+v after both flags", p)
			}
			if got := o.ArtifactServers(); len(got) != 2 || got[0] != "producer.example:8080" || got[1] != "https://other.example" {
				t.Errorf("--artifact-servers reads %q", got)
			}
		})
	}
}

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

// --http-retry reaches the helm group's chart downloads whether the
// kustomize group registered it first or the helm group runs alone.
func TestHTTPRetryReachesTheHelmGroup(t *testing.T) {
	for name, withKustomize := range map[string]bool{"with kustomize": true, "helm alone": false} {
		t.Run(name, func(t *testing.T) {
			fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
			if withKustomize {
				kustomize.Controller().Flags(fs)
			}
			o := DefaultOptions()
			o.BindFlags(fs)
			if got := o.HTTPRetry(); got != 9 {
				t.Errorf("default --http-retry reads %d, want Flux's 9", got)
			}
			if err := fs.Parse([]string{"--http-retry=3"}); err != nil {
				t.Fatal(err)
			}
			if got := o.HTTPRetry(); got != 3 {
				t.Errorf("--http-retry=3 reads %d in the helm group", got)
			}
		})
	}
}
