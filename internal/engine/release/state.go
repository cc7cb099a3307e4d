// Package release decides, for one HelmRelease, what the Helm storage
// holds compared with what the object wants, and which Helm action comes
// next: the state machine of Flux's helm-controller (flux-api.md §5.1),
// as plain functions over plain values, so that every transition is a
// table test and the controller only carries the decisions out.
//
// The storage side is a Stored (the latest release record, read by the
// caller through Helm's storage as the release's identity), the object's
// side a Desired (chart, values digest, post-render digests, what
// status.history remembers). State says where they stand; Next, after a
// failed action, says whether to remediate, retry or stop.
package release

import (
	"fmt"

	v2 "github.com/driftless/driftless/api/helm/v2"
)

// Status values of a Helm release record (helm.sh/helm/v4/pkg/release/common).
const (
	StatusDeployed        = "deployed"
	StatusFailed          = "failed"
	StatusSuperseded      = "superseded"
	StatusUninstalled     = "uninstalled"
	StatusUninstalling    = "uninstalling"
	StatusPendingInstall  = "pending-install"
	StatusPendingUpgrade  = "pending-upgrade"
	StatusPendingRollback = "pending-rollback"
)

// Stored is the latest release record in Helm storage, as the caller read
// it: what State compares with the object's history.
type Stored struct {
	Name, Namespace string
	// Version is the record's revision.
	Version int
	// Status is the Helm status (deployed, failed, pending-upgrade...).
	Status string
	// ChartName and ChartVersion are the released chart's.
	ChartName, ChartVersion string
	// ConfigDigest is the digest of the release's values, computed the way
	// the controller computes the desired one.
	ConfigDigest string
	// Digest is the digest of the whole record, as status.history keeps it.
	Digest string
	// OwnerName and OwnerNamespace are the HelmRelease its labels name
	// ("" when it has none: a release made by hand or by another tool).
	OwnerName, OwnerNamespace string
	// PostRenderStrategy is the post-render strategy the record was
	// rendered with, from its PostRenderStrategyLabel ("" when the record
	// does not say: made by Flux, by hand, or before the label existed).
	PostRenderStrategy string
}

// PostRenderStrategyLabel records on a release record the post-render
// strategy (nohooks, combined, separate) it was rendered with. Flux's
// status digests cover the post-renderers and commonMetadata but not the
// strategy, and Flux 2.9 does not upgrade when only the strategy changes;
// the label lets a strategy change upgrade without a status field Flux
// does not know. A record without it (Flux made it) is not upgraded for
// the strategy alone, so moving from Flux causes no upgrade storm.
const PostRenderStrategyLabel = "driftless.dev/post-render-strategy"

// Desired is what the HelmRelease asks for, and what it remembers.
type Desired struct {
	// Name and Namespace are the HelmRelease's.
	Name, Namespace string
	// ChartName and ChartVersion are the chart to release (the version
	// with its +<digest> suffix for an OCIRepository chartRef).
	ChartName, ChartVersion string
	// ConfigDigest is the digest of the composed values.
	ConfigDigest string
	// PostRenderersDigest and CommonMetadataDigest are the spec's, to
	// compare with status.observed*Digest.
	PostRenderersDigest, CommonMetadataDigest string
	// PostRenderStrategy is the effective strategy of the spec (its
	// default applied), to compare with Stored.PostRenderStrategy.
	PostRenderStrategy string
	// Status is the object's status: history, observed digests, counters.
	Status *v2.HelmReleaseStatus
	// TestEnabled says spec.test.enable.
	TestEnabled bool
	// IgnoreTestFailures says test failures do not fail the release
	// (test.ignoreFailures, or the action's remediation.ignoreTestFailures).
	IgnoreTestFailures bool
}

// State is where the stored release stands against the object.
type State string

// The states of Flux's helm-controller (§5.1); Drifted is decided by the
// drift check, which only runs on an InSync release.
const (
	// Absent: no release in storage, or only an uninstalled one: install.
	Absent State = "Absent"
	// Unmanaged: a release the object's history does not know (made by
	// hand, mutated in storage, or the history lost): upgrade, which
	// adopts it.
	Unmanaged State = "Unmanaged"
	// OutOfSync: the chart, the values or the post-renderers changed:
	// upgrade.
	OutOfSync State = "OutOfSync"
	// Locked: a pending-* release another action left: unlock it first.
	Locked State = "Locked"
	// Untested: deployed, tests enabled and not run yet: test.
	Untested State = "Untested"
	// Failed: the latest release failed (or its tests, not ignored):
	// remediate per the spec.
	Failed State = "Failed"
	// InSync: nothing to do but check for drift.
	InSync State = "InSync"
	// OwnedByAnother: the release's labels name another HelmRelease; two
	// objects must never upgrade one release in turn: stall.
	OwnedByAnother State = "OwnedByAnother"
)

// Verdict is a State with the reason a person reads in the condition.
type Verdict struct {
	State  State
	Reason string
}

// Decide compares the latest stored release (nil: none) with the object.
func Decide(stored *Stored, want Desired) Verdict {
	if stored == nil {
		return Verdict{Absent, "no release in storage"}
	}
	ref := fmt.Sprintf("%s/%s.v%d", stored.Namespace, stored.Name, stored.Version)
	if stored.OwnerName != "" && (stored.OwnerName != want.Name || stored.OwnerNamespace != want.Namespace) {
		return Verdict{OwnedByAnother, fmt.Sprintf("release %s belongs to HelmRelease %s/%s", ref, stored.OwnerNamespace, stored.OwnerName)}
	}
	switch stored.Status {
	case StatusPendingInstall, StatusPendingUpgrade, StatusPendingRollback, StatusUninstalling:
		return Verdict{Locked, fmt.Sprintf("release %s is locked in status '%s'", ref, stored.Status)}
	case StatusUninstalled:
		return Verdict{Absent, fmt.Sprintf("release %s was uninstalled", ref)}
	}
	last := latestSnapshot(want.Status)
	if last == nil || last.Version != stored.Version || last.Digest != stored.Digest {
		return Verdict{Unmanaged, fmt.Sprintf("release %s is not the one this HelmRelease last made", ref)}
	}
	if stored.Status == StatusFailed {
		return Verdict{Failed, fmt.Sprintf("release %s is in a failed state", ref)}
	}
	if stored.Status != StatusDeployed {
		return Verdict{Unmanaged, fmt.Sprintf("release %s has unexpected status '%s'", ref, stored.Status)}
	}
	if stored.ChartName != want.ChartName || stored.ChartVersion != want.ChartVersion {
		return Verdict{OutOfSync, fmt.Sprintf("release %s has chart %s@%s, want %s@%s", ref,
			stored.ChartName, stored.ChartVersion, want.ChartName, want.ChartVersion)}
	}
	if stored.ConfigDigest != want.ConfigDigest {
		return Verdict{OutOfSync, fmt.Sprintf("release %s has other values", ref)}
	}
	if want.Status != nil && (want.Status.ObservedPostRenderersDigest != want.PostRenderersDigest ||
		want.Status.ObservedCommonMetadataDigest != want.CommonMetadataDigest) {
		return Verdict{OutOfSync, fmt.Sprintf("release %s was rendered with other post-renderers or common metadata", ref)}
	}
	if stored.PostRenderStrategy != "" && want.PostRenderStrategy != "" && stored.PostRenderStrategy != want.PostRenderStrategy {
		return Verdict{OutOfSync, fmt.Sprintf("release %s was rendered with postRenderStrategy %s, want %s", ref,
			stored.PostRenderStrategy, want.PostRenderStrategy)}
	}
	if want.TestEnabled {
		switch testsOutcome(last) {
		case testsNotRun:
			return Verdict{Untested, fmt.Sprintf("release %s has not been tested", ref)}
		case testsFailed:
			if !want.IgnoreTestFailures {
				return Verdict{Failed, fmt.Sprintf("release %s has failed tests", ref)}
			}
		}
	}
	return Verdict{InSync, fmt.Sprintf("release %s is in sync", ref)}
}

// latestSnapshot is the newest entry of status.history (kept newest first).
func latestSnapshot(st *v2.HelmReleaseStatus) *v2.Snapshot {
	if st == nil || len(st.History) == 0 {
		return nil
	}
	return &st.History[0]
}

type testsResult int

const (
	testsNotRun testsResult = iota
	testsPassed
	testsFailed
)

// testsOutcome reads a snapshot's test hooks: not run (nil), failed (one
// hook's phase Failed, or one never completed), passed.
func testsOutcome(s *v2.Snapshot) testsResult {
	if s.TestHooks == nil {
		return testsNotRun
	}
	for _, h := range *s.TestHooks {
		if h != nil && h.Phase == "Failed" {
			return testsFailed
		}
	}
	return testsPassed
}
