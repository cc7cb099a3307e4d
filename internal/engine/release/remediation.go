package release

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "github.com/driftless/driftless/api/helm/v2"
)

// DefaultRetryInterval is the wait between retries under RetryOnFailure.
const DefaultRetryInterval = 5 * time.Minute

// Remedy is what undoes a failed release before it is tried again.
type Remedy string

const (
	// NoRemedy: the failed release is left as it is.
	NoRemedy Remedy = ""
	// Rollback to the previous successful release (a failed upgrade).
	Rollback Remedy = "rollback"
	// Uninstall the failed release (a failed install, or an upgrade with
	// remediation.strategy: uninstall).
	Uninstall Remedy = "uninstall"
)

// Outcome is what follows a failed install or upgrade.
type Outcome struct {
	// Remedy is run first (NoRemedy: none).
	Remedy Remedy
	// Retry says the action is tried again: at once after a remedy, or
	// after RetryAfter under RetryOnFailure.
	Retry bool
	// RetryAfter, when set, is the wait before the retry (RetryOnFailure,
	// where a failed install is retried as an upgrade and nothing is
	// remediated).
	RetryAfter time.Duration
	// Exhausted says no retry remains: the object stalls with
	// RetriesExceeded, and Message says how to get it going again.
	Exhausted bool
	Message   string
}

// AfterFailure decides what follows the failures-th consecutive failure of
// action (install or upgrade) under the spec's strategy and remediation,
// as Flux's helm-controller does:
//
//   - RetryOnFailure: nothing is remediated; the action is retried (a
//     failed install as an upgrade) every retryInterval, forever.
//   - RemediateOnFailure, install: uninstall and retry while failures is
//     within remediation.retries (negative: forever); then, with
//     remediateLastFailure (default false), uninstall once more, and stop.
//   - RemediateOnFailure, upgrade: roll back (or uninstall, per
//     remediation.strategy) and retry likewise; remediateLastFailure
//     defaults to true when retries is above 0.
func AfterFailure(action v2.ReleaseAction, spec *v2.HelmReleaseSpec, failures int64) Outcome {
	if name, interval := strategy(action, spec); name == v2.RetryOnFailure {
		return Outcome{Retry: true, RetryAfter: interval}
	}
	retries, remediateLast, remedy := remediation(action, spec)
	if retries < 0 || failures <= int64(retries) {
		return Outcome{Remedy: remedy, Retry: true}
	}
	out := Outcome{Exhausted: true, Message: fmt.Sprintf(
		"%s retries exhausted after %d failure(s) (%s.remediation.retries: %d); "+
			"fix the cause, then run 'flux reconcile helmrelease --reset' to retry, or '--force' for a one-off %s",
		action, failures, action, retries, action)}
	if remediateLast {
		out.Remedy = remedy
	}
	return out
}

// strategy returns the action's strategy name and retry interval.
func strategy(action v2.ReleaseAction, spec *v2.HelmReleaseSpec) (string, time.Duration) {
	var name string
	var every *metav1.Duration
	switch {
	case action == v2.ReleaseActionInstall && spec.Install != nil && spec.Install.Strategy != nil:
		name, every = spec.Install.Strategy.Name, spec.Install.Strategy.RetryInterval
	case action == v2.ReleaseActionUpgrade && spec.Upgrade != nil && spec.Upgrade.Strategy != nil:
		name, every = spec.Upgrade.Strategy.Name, spec.Upgrade.Strategy.RetryInterval
	}
	if name == "" {
		name = v2.RemediateOnFailure
	}
	interval := DefaultRetryInterval
	if every != nil && every.Duration > 0 {
		interval = every.Duration
	}
	return name, interval
}

// remediation returns the action's retries, whether its last failure is
// remediated, and how.
func remediation(action v2.ReleaseAction, spec *v2.HelmReleaseSpec) (retries int, remediateLast bool, remedy Remedy) {
	if action == v2.ReleaseActionInstall {
		remedy = Uninstall
		if spec.Install != nil && spec.Install.Remediation != nil {
			r := spec.Install.Remediation
			retries = r.Retries
			remediateLast = r.RemediateLastFailure != nil && *r.RemediateLastFailure
		}
		return retries, remediateLast, remedy
	}
	remedy = Rollback
	if spec.Upgrade != nil && spec.Upgrade.Remediation != nil {
		r := spec.Upgrade.Remediation
		retries = r.Retries
		remediateLast = retries > 0
		if r.RemediateLastFailure != nil {
			remediateLast = *r.RemediateLastFailure
		}
		if r.Strategy != nil && *r.Strategy == v2.UninstallRemediationStrategy {
			remedy = Uninstall
		}
	}
	return retries, remediateLast, remedy
}

// IgnoreTestFailures says whether failed tests after action leave the
// release standing: the action's remediation.ignoreTestFailures when set,
// else test.ignoreFailures.
func IgnoreTestFailures(action v2.ReleaseAction, spec *v2.HelmReleaseSpec) bool {
	switch {
	case action == v2.ReleaseActionInstall && spec.Install != nil && spec.Install.Remediation != nil &&
		spec.Install.Remediation.IgnoreTestFailures != nil:
		return *spec.Install.Remediation.IgnoreTestFailures
	case action == v2.ReleaseActionUpgrade && spec.Upgrade != nil && spec.Upgrade.Remediation != nil &&
		spec.Upgrade.Remediation.IgnoreTestFailures != nil:
		return *spec.Upgrade.Remediation.IgnoreTestFailures
	}
	return spec.Test != nil && spec.Test.IgnoreFailures
}

// WithDefaultStrategy returns spec with name as the install and upgrade
// strategy where spec sets none (helm-controller's DefaultToRetryOnFailure
// gate makes it RetryOnFailure); spec itself is left as it is. A strategy
// the spec sets, RemediateOnFailure included, is kept.
func WithDefaultStrategy(spec *v2.HelmReleaseSpec, name string) *v2.HelmReleaseSpec {
	out := *spec
	if out.Install == nil || out.Install.Strategy == nil || out.Install.Strategy.Name == "" {
		in := v2.Install{}
		if out.Install != nil {
			in = *out.Install
		}
		s := v2.InstallStrategy{Name: name}
		if in.Strategy != nil {
			s.RetryInterval = in.Strategy.RetryInterval
		}
		in.Strategy = &s
		out.Install = &in
	}
	if out.Upgrade == nil || out.Upgrade.Strategy == nil || out.Upgrade.Strategy.Name == "" {
		up := v2.Upgrade{}
		if out.Upgrade != nil {
			up = *out.Upgrade
		}
		s := v2.UpgradeStrategy{Name: name}
		if up.Strategy != nil {
			s.RetryInterval = up.Strategy.RetryInterval
		}
		up.Strategy = &s
		out.Upgrade = &up
	}
	return &out
}
