package release

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v2 "github.com/driftless/driftless/api/helm/v2"
)

// deployed is a release record this HelmRelease made, in sync with want().
func deployed() *Stored {
	return &Stored{Name: "app", Namespace: "apps", Version: 3, Status: StatusDeployed,
		ChartName: "app", ChartVersion: "1.2.0", ConfigDigest: "sha256:values", Digest: "sha256:record",
		OwnerName: "app", OwnerNamespace: "flux-system"}
}

func want() Desired {
	return Desired{Name: "app", Namespace: "flux-system", ChartName: "app", ChartVersion: "1.2.0",
		ConfigDigest: "sha256:values", PostRenderersDigest: "sha256:pr", CommonMetadataDigest: "sha256:cm",
		Status: &v2.HelmReleaseStatus{
			ObservedPostRenderersDigest: "sha256:pr", ObservedCommonMetadataDigest: "sha256:cm",
			History: []v2.Snapshot{{Name: "app", Namespace: "apps", Version: 3, Digest: "sha256:record", Status: StatusDeployed}},
		}}
}

func hooks(phases ...string) *map[string]*v2.TestHookStatus {
	m := map[string]*v2.TestHookStatus{}
	for i, p := range phases {
		m[string(rune('a'+i))] = &v2.TestHookStatus{Phase: p}
	}
	return &m
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name   string
		stored func(*Stored) *Stored
		want   func(*Desired)
		state  State
		text   string
	}{
		{"in sync", nil, nil, InSync, "apps/app.v3 is in sync"},
		{"no release", func(*Stored) *Stored { return nil }, nil, Absent, "no release in storage"},
		{"uninstalled with history kept", func(s *Stored) *Stored { s.Status = StatusUninstalled; return s }, nil, Absent, "was uninstalled"},
		{"pending upgrade", func(s *Stored) *Stored { s.Status = StatusPendingUpgrade; return s }, nil, Locked, "locked in status 'pending-upgrade'"},
		{"pending install", func(s *Stored) *Stored { s.Status = StatusPendingInstall; return s }, nil, Locked, "pending-install"},
		{"pending rollback", func(s *Stored) *Stored { s.Status = StatusPendingRollback; return s }, nil, Locked, "pending-rollback"},
		{"another HelmRelease's", func(s *Stored) *Stored { s.OwnerName = "other"; return s }, nil, OwnedByAnother, "belongs to HelmRelease flux-system/other"},
		{"another namespace's", func(s *Stored) *Stored { s.OwnerNamespace = "team-b"; return s }, nil, OwnedByAnother, "team-b/app"},
		{"made by hand (no owner labels, no history)", func(s *Stored) *Stored { s.OwnerName, s.OwnerNamespace = "", ""; return s },
			func(d *Desired) { d.Status.History = nil }, Unmanaged, "not the one this HelmRelease last made"},
		{"a newer revision made by hand", func(s *Stored) *Stored { s.Version = 4; return s }, nil, Unmanaged, "apps/app.v4"},
		{"the record mutated in storage", func(s *Stored) *Stored { s.Digest = "sha256:other"; return s }, nil, Unmanaged, "not the one"},
		{"failed", func(s *Stored) *Stored { s.Status = StatusFailed; return s }, nil, Failed, "failed state"},
		{"superseded latest", func(s *Stored) *Stored { s.Status = StatusSuperseded; return s }, nil, Unmanaged, "unexpected status 'superseded'"},
		{"new chart version", nil, func(d *Desired) { d.ChartVersion = "1.3.0" }, OutOfSync, "has chart app@1.2.0, want app@1.3.0"},
		{"new chart name", nil, func(d *Desired) { d.ChartName = "app2" }, OutOfSync, "want app2@1.2.0"},
		{"new values", nil, func(d *Desired) { d.ConfigDigest = "sha256:new" }, OutOfSync, "other values"},
		{"new post-renderers", nil, func(d *Desired) { d.PostRenderersDigest = "sha256:new" }, OutOfSync, "post-renderers"},
		{"new common metadata", nil, func(d *Desired) { d.CommonMetadataDigest = "sha256:new" }, OutOfSync, "common metadata"},
		{"tests enabled, not run", nil, func(d *Desired) { d.TestEnabled = true }, Untested, "not been tested"},
		{"tests passed", nil, func(d *Desired) {
			d.TestEnabled = true
			d.Status.History[0].TestHooks = hooks("Succeeded", "Succeeded")
		}, InSync, "in sync"},
		{"a chart without tests", nil, func(d *Desired) {
			d.TestEnabled = true
			d.Status.History[0].TestHooks = hooks()
		}, InSync, "in sync"},
		{"tests failed", nil, func(d *Desired) {
			d.TestEnabled = true
			d.Status.History[0].TestHooks = hooks("Succeeded", "Failed")
		}, Failed, "failed tests"},
		{"tests failed, ignored", nil, func(d *Desired) {
			d.TestEnabled, d.IgnoreTestFailures = true, true
			d.Status.History[0].TestHooks = hooks("Failed")
		}, InSync, "in sync"},
		{"tests disabled, failed ones ignored", nil, func(d *Desired) {
			d.Status.History[0].TestHooks = hooks("Failed")
		}, InSync, "in sync"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed()
			if tc.stored != nil {
				s = tc.stored(s)
			}
			w := want()
			if tc.want != nil {
				tc.want(&w)
			}
			got := Decide(s, w)
			if got.State != tc.state || !strings.Contains(got.Reason, tc.text) {
				t.Errorf("Decide = %s %q, want %s with %q", got.State, got.Reason, tc.state, tc.text)
			}
		})
	}
}

func TestAfterFailure(t *testing.T) {
	rollbackThenUninstall := v2.UninstallRemediationStrategy
	cases := []struct {
		name     string
		action   v2.ReleaseAction
		spec     v2.HelmReleaseSpec
		failures int64
		want     Outcome
	}{
		{"install, defaults: no retry, nothing remediated", v2.ReleaseActionInstall, v2.HelmReleaseSpec{}, 1,
			Outcome{Exhausted: true}},
		{"install, 3 retries, 1st failure", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Remediation: &v2.InstallRemediation{Retries: 3}}}, 1,
			Outcome{Remedy: Uninstall, Retry: true}},
		{"install, 3 retries, 3rd failure", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Remediation: &v2.InstallRemediation{Retries: 3}}}, 3,
			Outcome{Remedy: Uninstall, Retry: true}},
		{"install, 3 retries, 4th failure: exhausted, the failed release kept", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Remediation: &v2.InstallRemediation{Retries: 3}}}, 4,
			Outcome{Exhausted: true}},
		{"install, remediateLastFailure", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Remediation: &v2.InstallRemediation{Retries: 1, RemediateLastFailure: ptr.To(true)}}}, 2,
			Outcome{Remedy: Uninstall, Exhausted: true}},
		{"install, retries forever", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Remediation: &v2.InstallRemediation{Retries: -1}}}, 1000,
			Outcome{Remedy: Uninstall, Retry: true}},
		{"install, RetryOnFailure", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Strategy: &v2.InstallStrategy{Name: v2.RetryOnFailure}}}, 7,
			Outcome{Retry: true, RetryAfter: DefaultRetryInterval}},
		{"install, RetryOnFailure every 30s", v2.ReleaseActionInstall,
			v2.HelmReleaseSpec{Install: &v2.Install{Strategy: &v2.InstallStrategy{Name: v2.RetryOnFailure, RetryInterval: &metav1.Duration{Duration: 30 * time.Second}}}}, 1,
			Outcome{Retry: true, RetryAfter: 30 * time.Second}},
		{"upgrade, defaults: no retry, no rollback", v2.ReleaseActionUpgrade, v2.HelmReleaseSpec{}, 1,
			Outcome{Exhausted: true}},
		{"upgrade, 3 retries: rollback and retry", v2.ReleaseActionUpgrade,
			v2.HelmReleaseSpec{Upgrade: &v2.Upgrade{Remediation: &v2.UpgradeRemediation{Retries: 3}}}, 2,
			Outcome{Remedy: Rollback, Retry: true}},
		{"upgrade, 3 retries exhausted: the last failure rolled back by default", v2.ReleaseActionUpgrade,
			v2.HelmReleaseSpec{Upgrade: &v2.Upgrade{Remediation: &v2.UpgradeRemediation{Retries: 3}}}, 4,
			Outcome{Remedy: Rollback, Exhausted: true}},
		{"upgrade, remediateLastFailure false", v2.ReleaseActionUpgrade,
			v2.HelmReleaseSpec{Upgrade: &v2.Upgrade{Remediation: &v2.UpgradeRemediation{Retries: 3, RemediateLastFailure: ptr.To(false)}}}, 4,
			Outcome{Exhausted: true}},
		{"upgrade, uninstall strategy", v2.ReleaseActionUpgrade,
			v2.HelmReleaseSpec{Upgrade: &v2.Upgrade{Remediation: &v2.UpgradeRemediation{Retries: 1, Strategy: &rollbackThenUninstall}}}, 1,
			Outcome{Remedy: Uninstall, Retry: true}},
		{"upgrade, RetryOnFailure", v2.ReleaseActionUpgrade,
			v2.HelmReleaseSpec{Upgrade: &v2.Upgrade{Strategy: &v2.UpgradeStrategy{Name: v2.RetryOnFailure}}, Install: &v2.Install{Remediation: &v2.InstallRemediation{Retries: 5}}}, 9,
			Outcome{Retry: true, RetryAfter: DefaultRetryInterval}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AfterFailure(tc.action, &tc.spec, tc.failures)
			msg := got.Message
			got.Message = ""
			if got != tc.want {
				t.Errorf("AfterFailure = %+v, want %+v", got, tc.want)
			}
			if tc.want.Exhausted {
				for _, w := range []string{string(tc.action) + " retries exhausted", "--reset", "--force"} {
					if !strings.Contains(msg, w) {
						t.Errorf("message %q lacks %q", msg, w)
					}
				}
			} else if msg != "" {
				t.Errorf("a message %q without exhaustion", msg)
			}
		})
	}
}

func TestIgnoreTestFailures(t *testing.T) {
	spec := v2.HelmReleaseSpec{Test: &v2.Test{Enable: true, IgnoreFailures: true}}
	if !IgnoreTestFailures(v2.ReleaseActionInstall, &spec) || !IgnoreTestFailures(v2.ReleaseActionUpgrade, &spec) {
		t.Error("test.ignoreFailures not the default")
	}
	spec.Upgrade = &v2.Upgrade{Remediation: &v2.UpgradeRemediation{IgnoreTestFailures: ptr.To(false)}}
	if IgnoreTestFailures(v2.ReleaseActionUpgrade, &spec) || !IgnoreTestFailures(v2.ReleaseActionInstall, &spec) {
		t.Error("the upgrade's remediation.ignoreTestFailures does not override, or leaks to install")
	}
	spec = v2.HelmReleaseSpec{Install: &v2.Install{Remediation: &v2.InstallRemediation{IgnoreTestFailures: ptr.To(true)}}}
	if !IgnoreTestFailures(v2.ReleaseActionInstall, &spec) || IgnoreTestFailures(v2.ReleaseActionUpgrade, &spec) {
		t.Error("the install's remediation.ignoreTestFailures")
	}
}
