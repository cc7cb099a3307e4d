package helm

import (
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
)

// parseGates parses a driftless-controller command line of every group
// and checks its gates against the selected ones.
func parseGates(t *testing.T, selected []manager.Controller, args ...string) (manager.Options, error) {
	t.Helper()
	var opts manager.Options
	fs := pflag.NewFlagSet("driftless-controller", pflag.ContinueOnError)
	manager.BindFlags(fs, &opts, []manager.Controller{source.Controller(), kustomize.Controller(), Controller()})
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return opts, manager.CheckGates(opts, selected)
}

// Each gate of the helm group reaches the helmrelease package; defaults
// are Flux's but ExternalArtifact, on here.
func TestHelmGatesReachTheReconciler(t *testing.T) {
	helmOnly := []manager.Controller{Controller()}
	opts, err := parseGates(t, helmOnly)
	if err != nil {
		t.Fatal(err)
	}
	if g := gates(opts.FeatureGates); g != (gates(nil)) || g.NoExternalArtifact || g.AllowDNSLookups || g.UseHelm3Defaults {
		t.Errorf("defaults: %+v", g)
	}
	opts, err = parseGates(t, helmOnly, "--feature-gates=DefaultToRetryOnFailure=true,DisableChartDigestTracking=true,DisableConfigWatchers=true",
		"--feature-gates=UseHelm3Defaults=true,AllowDNSLookups=true,ExternalArtifact=false,ObjectLevelWorkloadIdentity=false,OOMWatch=false,CacheSecretsAndConfigMaps=true")
	if err != nil {
		t.Fatal(err)
	}
	g := gates(opts.FeatureGates)
	if !g.DefaultToRetryOnFailure || !g.DisableChartDigestTracking || !g.DisableConfigWatchers || !g.UseHelm3Defaults || !g.AllowDNSLookups || !g.NoExternalArtifact {
		t.Errorf("every gate set: %+v", g)
	}
}

func TestHelmGatesRefused(t *testing.T) {
	all := []manager.Controller{source.Controller(), kustomize.Controller(), Controller()}
	for _, tc := range []struct {
		selected []manager.Controller
		arg      string
		want     []string
	}{
		{all, "--feature-gates=ObjectLevelWorkloadIdentity=true", []string{"ObjectLevelWorkloadIdentity=true", "workload identity"}},
		{all, "--feature-gates=NoSuchGate=true", []string{`"NoSuchGate"`, "UseHelm3Defaults=false", "ExternalArtifact=true"}},
		// A helm gate when the process runs no helm group.
		{all[:1], "--feature-gates=UseHelm3Defaults=true", []string{`"UseHelm3Defaults"`}},
		{all, "--feature-gates=DirectSourceFetch=true", []string{"DirectSourceFetch=true", "not built"}},
	} {
		if _, err := parseGates(t, tc.selected, tc.arg); err == nil {
			t.Errorf("%s accepted", tc.arg)
		} else {
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %q does not say %q", tc.arg, err, w)
				}
			}
		}
	}
}

// AdoptLegacyReleases is accepted, has no effect, and is warned about.
func TestAdoptLegacyReleasesIsAcceptedWithAWarning(t *testing.T) {
	for _, arg := range []string{"AdoptLegacyReleases=true", "AdoptLegacyReleases=false"} {
		opts, err := parseGates(t, []manager.Controller{Controller()}, "--feature-gates="+arg)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		var logged []string
		warnDeprecatedGates(opts.FeatureGates, funcr.New(func(_, args string) { logged = append(logged, args) }, funcr.Options{}))
		if len(logged) != 1 || !strings.Contains(logged[0], "AdoptLegacyReleases") || !strings.Contains(logged[0], "no effect") {
			t.Errorf("%s logged %q", arg, logged)
		}
		if gates(opts.FeatureGates) != gates(nil) {
			t.Errorf("%s changed the release gates", arg)
		}
	}
	var logged int
	warnDeprecatedGates(nil, funcr.New(func(_, _ string) { logged++ }, funcr.Options{}))
	if logged != 0 {
		t.Error("a warning without the gate")
	}
}

// OOMWatch's flags have Flux's names and defaults.
func TestOOMWatchFlags(t *testing.T) {
	o := DefaultOptions().OOMWatch
	if o.Interval.String() != "500ms" || o.Threshold != 95 || o.MaxPath != "" || o.CurrentPath != "" {
		t.Errorf("defaults %+v", o)
	}
	fs := pflag.NewFlagSet("helm", pflag.ContinueOnError)
	var opts Options
	opts.BindFlags(fs)
	if err := fs.Parse([]string{"--oom-watch-interval=1s", "--oom-watch-memory-threshold=80", "--oom-watch-max-memory-path=/m", "--oom-watch-current-memory-path=/c"}); err != nil {
		t.Fatal(err)
	}
	if o := opts.OOMWatch; o.Interval.String() != "1s" || o.Threshold != 80 || o.MaxPath != "/m" || o.CurrentPath != "/c" {
		t.Errorf("parsed %+v", o)
	}
}
