package manager

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

func parse(t *testing.T, args ...string) Options {
	t.Helper()
	var o Options
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDefaultsFollowFlux(t *testing.T) {
	o := parse(t)
	if o.Concurrent != 4 || !o.WatchAllNamespaces || o.KubeAPIQPS != 50 || o.KubeAPIBurst != 300 {
		t.Errorf("defaults: %+v", o)
	}
	if o.Storage.RetentionRecords != 2 || o.Storage.RetentionTTL.String() != "1m0s" || o.Storage.DigestAlgo != "sha256" {
		t.Errorf("storage defaults: %+v", o.Storage)
	}
	if o.Retry.MinRetryDelay.String() != "750ms" || o.Retry.MaxRetryDelay.String() != "15m0s" || o.Retry.JitterPercent != 5 {
		t.Errorf("retry defaults: %+v", o.Retry)
	}
	if o.LeaseDuration.String() != "35s" || o.RenewDeadline.String() != "30s" || o.LeaderRetryPeriod.String() != "5s" {
		t.Errorf("leader election defaults: %s %s %s", o.LeaseDuration, o.RenewDeadline, o.LeaderRetryPeriod)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("defaults must validate: %v", err)
	}
}

func TestValidateNamesTheBadFlag(t *testing.T) {
	cases := map[string][]string{
		"unknown controller": {"--controllers=source,sourcery"},
		"--log-encoding":     {"--log-encoding=xml"},
		"--log-level":        {"--log-level=loud"},
		"--concurrent":       {"--concurrent=0"},
	}
	for want, args := range cases {
		err := parse(t, args...).Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want error mentioning %q, got %v", args, want, err)
		}
	}
}

func TestSelected(t *testing.T) {
	available := []Controller{{Name: "source"}}
	all, err := Selected(Options{}, available)
	if err != nil || len(all) != 1 {
		t.Fatalf("default selects every available controller: %v %v", all, err)
	}
	_, err = Selected(Options{Controllers: []string{"kustomize"}}, available)
	if err == nil || !strings.Contains(err.Error(), "kustomize controller is not implemented yet") {
		t.Errorf("want a clear error for a controller that does not exist yet, got %v", err)
	}
}

func TestShardsGetTheirOwnLeaseAndCacheFilter(t *testing.T) {
	main := Options{LeaderElectionID: "driftless-controller-leader-election"}
	shard := main
	shard.WatchLabelSelector = "sharding.fluxcd.io/key=shard1"
	if leaderElectionID(main) == leaderElectionID(shard) {
		t.Error("a shard must not share the main lease")
	}
	repo := &sourcev1.GitRepository{}
	co, err := cacheOptions(shard, []Controller{{Name: "source", Objects: []client.Object{repo}}})
	if err != nil {
		t.Fatal(err)
	}
	if sel := co.ByObject[repo].Label; sel == nil || sel.String() != "sharding.fluxcd.io/key=shard1" {
		t.Errorf("GitRepository cache selector = %v", sel)
	}
	if _, err := cacheOptions(Options{WatchLabelSelector: "a in (b"}, nil); err == nil {
		t.Error("a malformed selector must be refused")
	}
	scoped, _ := cacheOptions(Options{WatchAllNamespaces: false, RuntimeNamespace: "flux-system"}, nil)
	if _, ok := scoped.DefaultNamespaces["flux-system"]; !ok || len(scoped.DefaultNamespaces) != 1 {
		t.Errorf("--watch-all-namespaces=false should watch only the runtime namespace: %v", scoped.DefaultNamespaces)
	}
}

// --watch-configs-label-selector is one flag of the process, shared by the
// kustomize and helm groups: empty means Flux's default, and a selector of
// everything is refused (the shared cache would hold every Secret).
func TestWatchConfigsSelector(t *testing.T) {
	o := parse(t)
	if sel, err := o.WatchConfigsSelector(); err != nil || sel.String() != DefaultWatchConfigsLabelSelector {
		t.Errorf("default: %v %v", sel, err)
	}
	if sel, err := (Options{}).WatchConfigsSelector(); err != nil || sel.String() != DefaultWatchConfigsLabelSelector {
		t.Errorf("empty: %v %v", sel, err)
	}
	for _, bad := range []string{"a in (", " "} {
		if err := parse(t, "--watch-configs-label-selector="+bad).Validate(); err == nil || !strings.Contains(err.Error(), "--watch-configs-label-selector") {
			t.Errorf("%q: want an error naming the flag, got %v", bad, err)
		}
	}
	by, err := WatchedConfigs(parse(t, "--watch-configs-label-selector=team=a"))
	if err != nil || len(by) != 2 {
		t.Fatalf("WatchedConfigs: %v %v", by, err)
	}
	for o, b := range by {
		if b.Label.String() != "team=a" {
			t.Errorf("%T cached with %q", o, b.Label)
		}
	}
}

func TestWebFlags(t *testing.T) {
	o := parse(t)
	if o.Web.Addr != "" || o.Web.MaxStreams != 200 || o.Web.AnonymousUser || o.Web.ActionTimeout != 2*time.Minute {
		t.Errorf("web defaults: %+v", o.Web)
	}
	for want, args := range map[string][]string{
		"--web-tls-cert and --web-tls-key go together": {"--web-tls-cert=c.pem"},
		"set both or neither":                          {"--web-tls-key=k.pem"},
		"--web-max-streams":                            {"--web-addr=:9080", "--web-max-streams=0"},
		"--web-action-timeout must be positive":        {"--web-addr=:9080", "--web-action-timeout=0s"},
	} {
		err := parse(t, args...).Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want error mentioning %q, got %v", args, want, err)
		}
	}
	if err := parse(t, "--web-addr=:9080", "--web-tls-cert=c.pem", "--web-tls-key=k.pem").Validate(); err != nil {
		t.Errorf("both TLS flags: %v", err)
	}
}

func TestWebServerRunsOnEveryReplica(t *testing.T) {
	if (&webServer{}).NeedLeaderElection() {
		t.Error("the web server waits for leader election; it must run on every replica")
	}
	got := DefaultWebHosts("flux-system")
	for _, want := range []string{"driftless-web", "driftless-web.flux-system", "driftless-web.flux-system.svc", "localhost", "127.0.0.1"} {
		if !slices.Contains(got, want) {
			t.Errorf("default hosts %v lack %s", got, want)
		}
	}
}
