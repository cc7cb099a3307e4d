package kinds

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
)

func wantValues(t *testing.T, got, want map[string]string) {
	t.Helper()
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s = %q, want %q", key, got[key], w)
		}
	}
}

// TestImageRepositoryEntry: the table shows the scan time where other kinds
// show a revision, the revision is the scan's checksum and a wait ends on
// the number of tags, as Flux says it.
func TestImageRepositoryEntry(t *testing.T) {
	scanned := metav1.NewTime(time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC))
	r := &imagev1.ImageRepository{
		Spec: imagev1.ImageRepositorySpec{Image: "ghcr.io/org/app", Interval: metav1.Duration{Duration: time.Minute},
			SecretRef: &meta.LocalObjectReference{Name: "pull"}, ExclusionList: []string{"^.*\\.sig$", "^dev-"}},
		Status: imagev1.ImageRepositoryStatus{CanonicalImageName: "ghcr.io/org/app",
			LastScanResult: &imagev1.ScanResult{Revision: "sha256:ab", TagCount: 3, ScanTime: scanned, LatestTags: []string{"1.2.0", "1.1.0"}}},
	}
	k := ImageRepository()
	if got := k.RevisionColumn.Value(r); k.RevisionColumn.Header != "LAST SCAN" || got != "2026-12-07T13:00:00Z" {
		t.Errorf("column %s = %q", k.RevisionColumn.Header, got)
	}
	if got := k.RevisionOf(r); got != "sha256:ab" {
		t.Errorf("revision %q", got)
	}
	if got := k.OutcomeOf(r); got != "scan fetched 3 tags" {
		t.Errorf("outcome %q", got)
	}
	if got := k.OutcomeOf(&imagev1.ImageRepository{}); got != "" {
		t.Errorf("outcome of an unscanned repository %q", got)
	}
	if k.SecretRef(r) != "pull" {
		t.Errorf("SecretRef %q", k.SecretRef(r))
	}
	wantValues(t, describeValues(k, r), map[string]string{
		"Spec/Image":                  "ghcr.io/org/app",
		"Spec/Secret":                 "pull",
		"Spec/Exclusion List":         "^.*\\.sig$, ^dev-",
		"Status/Canonical Image Name": "ghcr.io/org/app",
		"Last Scan/Tag Count":         "3",
		"Last Scan/Latest Tags":       "1.2.0, 1.1.0",
		"Last Scan/Scan Time":         "1s ago",
	})
}

// TestImagePolicyEntry: LATEST IMAGE is latestRef's name:tag; describe
// shows latestRef and observedPreviousRef with their digests.
func TestImagePolicyEntry(t *testing.T) {
	p := &imagev1.ImagePolicy{
		Spec: imagev1.ImagePolicySpec{
			ImageRepositoryRef: meta.NamespacedObjectReference{Name: "app", Namespace: "images"},
			Policy:             imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{}},
			FilterTags:         &imagev1.TagFilter{Pattern: `^main-(?P<ts>\d+)$`, Extract: "$ts"},
		},
		Status: imagev1.ImagePolicyStatus{
			LatestRef:           &imagev1.ImageRef{Name: "ghcr.io/org/app", Tag: "main-2", Digest: "sha256:cd"},
			ObservedPreviousRef: &imagev1.ImageRef{Name: "ghcr.io/org/app", Tag: "main-1"},
		},
	}
	p.Namespace = "apps"
	k := ImagePolicy()
	if got := k.RevisionColumn.Value(p); k.RevisionColumn.Header != "LATEST IMAGE" || got != "ghcr.io/org/app:main-2" {
		t.Errorf("column %s = %q", k.RevisionColumn.Header, got)
	}
	if got := k.OutcomeOf(p); got != "selected image ghcr.io/org/app:main-2@sha256:cd" {
		t.Errorf("outcome %q", got)
	}
	wantValues(t, describeValues(k, p), map[string]string{
		"Spec/Image Repository":        "images/app",
		"Spec/Policy":                  "alphabetical:asc",
		"Spec/Filter Pattern":          `^main-(?P<ts>\d+)$`,
		"Spec/Filter Extract":          "$ts",
		"Spec/Digest Reflection":       "Never",
		"Status/Latest Ref":            "ghcr.io/org/app:main-2@sha256:cd",
		"Status/Observed Previous Ref": "ghcr.io/org/app:main-1",
	})
	if got := k.Source(p); got != (Ref{APIVersion: "image.toolkit.fluxcd.io/v1", Kind: "ImageRepository", Namespace: "images", Name: "app"}) {
		t.Errorf("Source %+v", got)
	}
	p.Spec.ImageRepositoryRef.Namespace = ""
	if got := k.Related(p); len(got) != 1 || got[0].Namespace != "apps" {
		t.Errorf("Related %+v: want the ImageRepository in the policy's namespace", got)
	}
	for _, tc := range []struct {
		c    imagev1.ImagePolicyChoice
		want string
	}{
		{imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}}, "semver:>=1.0.0"},
		{imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "desc"}}, "numerical:desc"},
		{imagev1.ImagePolicyChoice{}, ""},
	} {
		if got := policyString(tc.c); got != tc.want {
			t.Errorf("policyString(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

// TestImageUpdateAutomationEntry: LAST RUN is the run's time, a wait ends
// on the last pushed commit, describe shows the Git settings and the
// policies the run observed.
func TestImageUpdateAutomationEntry(t *testing.T) {
	run := metav1.NewTime(time.Date(2026, 12, 7, 13, 5, 0, 0, time.UTC))
	a := &imagev1.ImageUpdateAutomation{
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "fleet"},
			GitSpec: &imagev1.GitSpec{
				Checkout: &imagev1.GitCheckoutSpec{Reference: imagev1.GitRepositoryRef{Branch: "main"}},
				Commit: imagev1.CommitSpec{Author: imagev1.CommitUser{Name: "fluxbot", Email: "flux@example.com"},
					SigningKey: &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "sign"}}},
				Push: &imagev1.PushSpec{Branch: "image-updates"},
			},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./clusters"},
		},
		Status: imagev1.ImageUpdateAutomationStatus{LastAutomationRunTime: &run, LastPushCommit: "0123abcd",
			ObservedPolicies: imagev1.ObservedPolicies{"b": {Name: "x", Tag: "2"}, "a": {Name: "y", Tag: "1"}}},
	}
	k := ImageUpdateAutomation()
	if got := k.RevisionColumn.Value(a); k.RevisionColumn.Header != "LAST RUN" || got != "2026-12-07T13:05:00Z" {
		t.Errorf("column %s = %q", k.RevisionColumn.Header, got)
	}
	if got := k.OutcomeOf(a); got != "last pushed commit 0123abcd" {
		t.Errorf("outcome %q", got)
	}
	if got := k.OutcomeOf(&imagev1.ImageUpdateAutomation{}); got != "no commit pushed yet" {
		t.Errorf("outcome without a push %q", got)
	}
	a.Namespace = "apps"
	if got := k.Source(a); got != (Ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Namespace: "apps", Name: "fleet"}) {
		t.Errorf("Source %+v", got)
	}
	wantValues(t, describeValues(k, a), map[string]string{
		"Spec/Source":              "GitRepository/fleet",
		"Spec/Checkout":            "branch:main",
		"Spec/Push":                "image-updates",
		"Spec/Author":              "fluxbot <flux@example.com>",
		"Spec/Signing Key":         "sign (gpg)",
		"Spec/Update Path":         "./clusters",
		"Status/Last Push Commit":  "0123abcd",
		"Status/Observed Policies": "a=y:1, b=x:2",
		"Status/Last Run":          "1s ago",
	})
}

// TestImagePolicyWhyNone: with no candidate, describe says in one line
// why, from the counts: no tags, a filter that keeps none, values that
// are no versions or numbers, or a policy nothing matches.
func TestImagePolicyWhyNone(t *testing.T) {
	semver := imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=3.0.0"}}
	numerical := imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{}}
	filter := &imagev1.TagFilter{Pattern: "^main-"}
	for _, c := range []struct {
		policy imagev1.ImagePolicyChoice
		filter *imagev1.TagFilter
		sel    imagev1.TagSelection
		tags   string
		want   string
	}{
		{semver, nil, imagev1.TagSelection{}, "0", "none: the scan found no tags"},
		{semver, filter, imagev1.TagSelection{Total: 4}, "4 (0 after the filter)", "none: filterTags.pattern matches none of the 4 tags"},
		{semver, nil, imagev1.TagSelection{Total: 2, Filtered: 2, Unparsed: 2, UnparsedTags: []string{"dev", "latest"}},
			"2 (2 not parsed: dev, latest)", "none: none of 2 parses as a version"},
		{numerical, filter, imagev1.TagSelection{Total: 9, Filtered: 7, Unparsed: 6, UnparsedTags: []string{"a", "b", "c", "d", "e"}},
			"9 (7 after the filter, 6 not parsed: a, b, c, d, e, …)", "none: 6 of the 7 left after the filter do not parse as numbers"},
		{semver, filter, imagev1.TagSelection{Total: 40, Filtered: 12, Unparsed: 1, UnparsedTags: []string{"main-x"}},
			"40 (12 after the filter, 1 not parsed: main-x)", "none: no tag of the 12 left after the filter matches semver:>=3.0.0"},
	} {
		p := &imagev1.ImagePolicy{Spec: imagev1.ImagePolicySpec{Policy: c.policy, FilterTags: c.filter},
			Status: imagev1.ImagePolicyStatus{Selection: &c.sel}}
		p.Status.Selection.Revision = "0123456789abcdef"
		wantValues(t, describeValues(ImagePolicy(), p), map[string]string{
			"Selection/Tags":      c.tags,
			"Selection/From Scan": "0123456789ab",
			"Selection/Picked":    c.want,
		})
	}
}
