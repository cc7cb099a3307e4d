package helmrelease

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/release"
	"github.com/driftless/driftless/internal/reconcile"
)

func gateRelease() *helmv2.HelmRelease {
	return &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "dns"}}
}

// dnsChart renders what getHostByName "localhost" returns.
func dnsChart() *chartv2.Chart {
	return &chartv2.Chart{
		Metadata: &chartv2.Metadata{APIVersion: "v2", Name: "dns", Version: "1.0.0"},
		Templates: []*common.File{{Name: "templates/cm.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dns\ndata:\n  host: \"[{{ getHostByName \"localhost\" }}]\"\n")}},
	}
}

func memoryConfig() *action.Configuration {
	return &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: common.DefaultCapabilities,
	}
}

// AllowDNSLookups: a template's getHostByName resolves on install and
// upgrade only with the gate; without it Helm renders "".
func TestAllowDNSLookupsGate(t *testing.T) {
	for _, allow := range []bool{false, true} {
		r := &Reconciler{Gates: Gates{AllowDNSLookups: allow}}
		obj := gateRelease()

		cfg := memoryConfig()
		in := r.newInstall(cfg, obj, &helmv2.Install{})
		in.DryRunStrategy = action.DryRunClient
		rel, err := in.RunWithContext(context.Background(), dnsChart(), map[string]any{})
		if err != nil {
			t.Fatalf("install (AllowDNSLookups=%t): %v", allow, err)
		}
		checkResolved(t, "install", allow, rel)

		cfg = memoryConfig()
		if err := cfg.Releases.Create(&helmrelease.Release{Name: obj.GetReleaseName(), Namespace: obj.GetReleaseNamespace(),
			Version: 1, Chart: dnsChart(), Info: &helmrelease.Info{Status: rcommon.StatusDeployed}}); err != nil {
			t.Fatal(err)
		}
		up := r.newUpgrade(cfg, obj, &helmv2.Upgrade{})
		up.DryRunStrategy = action.DryRunClient
		rel, err = up.RunWithContext(context.Background(), obj.GetReleaseName(), dnsChart(), map[string]any{})
		if err != nil {
			t.Fatalf("upgrade (AllowDNSLookups=%t): %v", allow, err)
		}
		checkResolved(t, "upgrade", allow, rel)
	}
}

func checkResolved(t *testing.T, act string, allow bool, rel any) {
	t.Helper()
	r, ok := rel.(*helmrelease.Release)
	if !ok {
		t.Fatalf("%s returned %T", act, rel)
	}
	resolved := !strings.Contains(r.Manifest, `host: "[]"`)
	if resolved != allow {
		t.Errorf("%s with AllowDNSLookups=%t rendered %q", act, allow, r.Manifest)
	}
}

// UseHelm3Defaults: an install without serverSideApply applies
// client-side and waits with Helm's legacy waiter; without the gate,
// server-side with kstatus health. What the spec sets wins either way,
// and upgrades follow the release ("auto") either way.
func TestUseHelm3DefaultsGate(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		helm3    bool
		in       helmv2.Install
		ws       *helmv2.WaitStrategy
		wantSSA  bool
		wantWait kube.WaitStrategy
	}{
		{helm3: false, wantSSA: true, wantWait: kube.StatusWatcherStrategy},
		{helm3: true, wantSSA: false, wantWait: kube.LegacyStrategy},
		{helm3: true, in: helmv2.Install{ServerSideApply: &yes}, ws: &helmv2.WaitStrategy{Name: "poller"}, wantSSA: true, wantWait: kube.StatusWatcherStrategy},
	} {
		r := &Reconciler{Gates: Gates{UseHelm3Defaults: tc.helm3}}
		obj := gateRelease()
		obj.Spec.WaitStrategy = tc.ws
		a := r.newInstall(memoryConfig(), obj, &tc.in)
		if a.ServerSideApply != tc.wantSSA || a.WaitStrategy != tc.wantWait {
			t.Errorf("UseHelm3Defaults=%t, spec %+v: install SSA %t wait %q; want %t %q",
				tc.helm3, tc.in, a.ServerSideApply, a.WaitStrategy, tc.wantSSA, tc.wantWait)
		}
		if up := r.newUpgrade(memoryConfig(), obj, &helmv2.Upgrade{}); up.ServerSideApply != "auto" {
			t.Errorf("UseHelm3Defaults=%t: upgrade SSA %q, want auto", tc.helm3, up.ServerSideApply)
		}
		// The post-render strategy where the spec sets none: nohooks
		// (Helm 3) under the gate, combined (Helm 4) without.
		var err error
		if r.Digester, err = release.NewDigester("sha256"); err != nil {
			t.Fatal(err)
		}
		st := &State{}
		if err := r.composeValues(context.Background(), obj, nil, st); err != nil {
			t.Fatal(err)
		}
		want := helmv2.PostRenderCombined
		if tc.helm3 {
			want = helmv2.PostRenderNoHooks
		}
		if got := st.renderer.Strategy(); got != want {
			t.Errorf("UseHelm3Defaults=%t: post-render strategy %q, want %q", tc.helm3, got, want)
		}
	}
}

// DisableChartDigestTracking: an OCI chart's version carries no
// +<digest>, so a new digest of one version is the same chart.
func TestDisableChartDigestTrackingGate(t *testing.T) {
	const a = "1.0.0@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const b = "1.0.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	tracking := &Reconciler{}
	va, da := tracking.chartVersion("1.0.0", a, true)
	vb, _ := tracking.chartVersion("1.0.0", b, true)
	if va != "1.0.0+aaaaaaaaaaaa" || va == vb || da == "" {
		t.Errorf("tracking digests: versions %q and %q (digest %q)", va, vb, da)
	}
	off := &Reconciler{Gates: Gates{DisableChartDigestTracking: true}}
	va, da = off.chartVersion("1.0.0", a, true)
	vb, _ = off.chartVersion("1.0.0", b, true)
	if va != "1.0.0" || vb != "1.0.0" || da == "" {
		t.Errorf("DisableChartDigestTracking: versions %q and %q (digest %q), want 1.0.0 for both and the digest kept", va, vb, da)
	}
	if v, d := tracking.chartVersion("1.0.0", a, false); v != "1.0.0" || d != "" {
		t.Errorf("a HelmChart's chart: %q %q", v, d)
	}
}

// DisableConfigWatchers drops the valuesFrom watches; ExternalArtifact
// =false drops the ExternalArtifact watch.
func TestGatesDropWatches(t *testing.T) {
	count := func(g Gates) (configs, external int) {
		for _, w := range (&Reconciler{Gates: g}).watches() {
			switch w.Object.(type) {
			case *corev1.ConfigMap, *corev1.Secret:
				configs++
			case *sourcev1.ExternalArtifact:
				external++
			}
		}
		return
	}
	if c, e := count(Gates{}); c != 2 || e != 1 {
		t.Errorf("defaults: %d config watches, %d ExternalArtifact watches; want 2 and 1", c, e)
	}
	if c, e := count(Gates{DisableConfigWatchers: true, NoExternalArtifact: true}); c != 0 || e != 0 {
		t.Errorf("gates off: %d config watches, %d ExternalArtifact watches; want none", c, e)
	}
}

// ExternalArtifact=false stalls an ExternalArtifact chartRef naming the
// gate, before reading anything.
func TestExternalArtifactGateOff(t *testing.T) {
	r := &Reconciler{Gates: Gates{NoExternalArtifact: true}}
	obj := gateRelease()
	obj.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "charts"}
	_, err := r.chartRef(context.Background(), obj)
	var stall *reconcile.StallingError
	if !errors.As(err, &stall) || stall.Reason != sourcev1.InvalidChartReferenceReason || !strings.Contains(err.Error(), "ExternalArtifact=false") || !strings.Contains(err.Error(), "team/charts") {
		t.Errorf("got %v; want a stall naming the gate and the ExternalArtifact", err)
	}
}

// DefaultToRetryOnFailure: a failed install without a strategy is
// retried, not uninstalled; a spec's own strategy is kept.
func TestDefaultToRetryOnFailureGate(t *testing.T) {
	obj := gateRelease()
	obj.Status.LastAttemptedReleaseAction = helmv2.ReleaseActionInstall
	obj.Status.Failures = 1
	if d := (&Reconciler{}).retryAfter(obj); d != 0 {
		t.Errorf("default strategy retries after %s, want the back-off (0)", d)
	}
	on := &Reconciler{Gates: Gates{DefaultToRetryOnFailure: true}}
	if d := on.retryAfter(obj); d <= 0 {
		t.Errorf("DefaultToRetryOnFailure: retry after %s, want RetryOnFailure's interval", d)
	}
	obj.Spec.Install = &helmv2.Install{Strategy: &helmv2.InstallStrategy{Name: helmv2.RemediateOnFailure}}
	if d := on.retryAfter(obj); d != 0 {
		t.Errorf("an explicit RemediateOnFailure under the gate retries after %s", d)
	}
	if obj.Spec.Upgrade != nil {
		t.Errorf("the gate changed the object's spec: %+v", obj.Spec.Upgrade)
	}
}
