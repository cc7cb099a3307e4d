package release

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "github.com/driftless/driftless/api/helm/v2"
)

// WithDefaultStrategy (the DefaultToRetryOnFailure gate) fills only the
// strategies the spec leaves out, keeps their retry interval, and leaves
// the spec itself alone.
func TestWithDefaultStrategy(t *testing.T) {
	spec := &v2.HelmReleaseSpec{Upgrade: &v2.Upgrade{Strategy: &v2.UpgradeStrategy{Name: v2.RemediateOnFailure}}}
	got := WithDefaultStrategy(spec, v2.RetryOnFailure)
	if spec.Install != nil || spec.Upgrade.Strategy.Name != v2.RemediateOnFailure {
		t.Fatalf("the spec changed: %+v", spec)
	}
	if out := AfterFailure(v2.ReleaseActionInstall, got, 5); !out.Retry || out.RetryAfter != DefaultRetryInterval || out.Remedy != NoRemedy || out.Exhausted {
		t.Errorf("install under the default RetryOnFailure: %+v", out)
	}
	if out := AfterFailure(v2.ReleaseActionUpgrade, got, 1); out.RetryAfter != 0 || !out.Exhausted {
		t.Errorf("an explicit RemediateOnFailure upgrade: %+v", out)
	}
	every := &metav1.Duration{Duration: time.Minute}
	spec = &v2.HelmReleaseSpec{Install: &v2.Install{Strategy: &v2.InstallStrategy{RetryInterval: every}}}
	if out := AfterFailure(v2.ReleaseActionInstall, WithDefaultStrategy(spec, v2.RetryOnFailure), 1); out.RetryAfter != time.Minute {
		t.Errorf("the spec's retryInterval was lost: %+v", out)
	}
}
