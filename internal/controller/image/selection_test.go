package image_test

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

// TestSelection: status.selection says why latestRef is the tag it is
// (the counts, the best candidates in order, extracted values) and, when
// no tag matches, why none (the counts, no candidates); a spec that
// cannot select clears it.
func TestSelection(t *testing.T) {
	ns := env.Namespace(t)
	_, repo := scannedRepo(t, ns, "app", "1.0.0", "1.1.0", "1.2.0", "2.0.0", "latest", "main-abc-100", "main-def-200")
	rev := waitScanned(t, repo, 7).Status.LastScanResult.Revision

	pol := createPolicy(t, ns, "semver", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver("1.x")})
	got := waitLatest(t, pol, "1.2.0")
	want := &imagev1.TagSelection{Revision: rev, Total: 7, Filtered: 7, Unparsed: 3,
		UnparsedTags: []string{"latest", "main-abc-100", "main-def-200"},
		Best:         []imagev1.TagCandidate{{Tag: "1.2.0"}, {Tag: "1.1.0"}, {Tag: "1.0.0"}}}
	if !reflect.DeepEqual(got.Status.Selection, want) {
		t.Errorf("selection %+v, want %+v", got.Status.Selection, want)
	}

	builds := createPolicy(t, ns, "builds", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"),
		Policy:     imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "asc"}},
		FilterTags: &imagev1.TagFilter{Pattern: `^main-[a-f]+-(?P<ts>[0-9]+)$`, Extract: "$ts"}})
	got = waitLatest(t, builds, "main-def-200")
	want = &imagev1.TagSelection{Revision: rev, Total: 7, Filtered: 2,
		Best: []imagev1.TagCandidate{{Tag: "main-def-200", Value: "200"}, {Tag: "main-abc-100", Value: "100"}}}
	if !reflect.DeepEqual(got.Status.Selection, want) {
		t.Errorf("extract selection %+v, want %+v", got.Status.Selection, want)
	}

	controllertest.Update(t, kube, pol, func(o *imagev1.ImagePolicy) { o.Spec.Policy = semver(">=3.0.0") })
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "no match", func(o *imagev1.ImagePolicy) bool {
		r := ready(o)
		return r != nil && r.Status == metav1.ConditionFalse && r.ObservedGeneration == o.Generation
	})
	want = &imagev1.TagSelection{Revision: rev, Total: 7, Filtered: 7, Unparsed: 3,
		UnparsedTags: []string{"latest", "main-abc-100", "main-def-200"}}
	if !reflect.DeepEqual(got.Status.Selection, want) {
		t.Errorf("no-match selection %+v, want %+v", got.Status.Selection, want)
	}
	if got.Status.LatestRef == nil || got.Status.LatestRef.Tag != "1.2.0" {
		t.Errorf("previous latestRef not kept: %+v", got.Status.LatestRef)
	}

	controllertest.Update(t, kube, pol, func(o *imagev1.ImagePolicy) { o.Spec.Policy = semver("not a range") })
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "a stall", func(o *imagev1.ImagePolicy) bool {
		return reconcile.IsTrue(o, meta.StalledCondition) && ready(o).ObservedGeneration == o.Generation
	})
	if got.Status.Selection != nil {
		t.Errorf("a spec that cannot select keeps selection %+v", got.Status.Selection)
	}
}
