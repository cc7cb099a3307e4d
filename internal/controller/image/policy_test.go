package image_test

import (
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

func semver(r string) imagev1.ImagePolicyChoice {
	return imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: r}}
}

func repoRef(name string) meta.NamespacedObjectReference {
	return meta.NamespacedObjectReference{Name: name}
}

// scannedRepo pushes tags to a fresh registry and waits for an
// ImageRepository of them in ns.
func scannedRepo(t *testing.T, ns, name string, tags ...string) (*ocitest.Registry, *imagev1.ImageRepository) {
	t.Helper()
	reg := ocitest.Start(t, ocitest.Options{})
	pushTags(t, reg, name, tags...)
	obj := createRepo(t, ns, name, imagev1.ImageRepositorySpec{Image: reg.Host + "/" + name, Insecure: true})
	waitScanned(t, obj, len(tags))
	return reg, obj
}

// TestSemverPolicy picks 1.3.0 among 1.2.3, 1.3.0 and 2.0.0 with "1.x",
// names the image as the repository's spec.image says, and follows a new
// tag once the repository is asked to scan: latestRef moves, the previous
// one is kept in observedPreviousRef, and an event says so.
func TestSemverPolicy(t *testing.T) {
	ns := env.Namespace(t)
	reg, repo := scannedRepo(t, ns, "app", "1.2.3", "1.3.0", "2.0.0")
	pol := createPolicy(t, ns, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver("1.x")})

	got := waitLatest(t, pol, "1.3.0")
	image := reg.Host + "/app"
	if got.Status.LatestRef.Name != image || got.Status.LatestRef.Digest != "" {
		t.Errorf("latestRef %+v", got.Status.LatestRef)
	}
	want := "Latest image tag for '" + image + "' resolved to 1.3.0"
	if m := ready(got).Message; m != want {
		t.Errorf("Ready message %q, want %q", m, want)
	}

	pushTags(t, reg, "app", "1.4.0")
	controllertest.RequestReconcile(t, kube, repo, "pushed-1.4.0")
	got = waitLatest(t, pol, "1.4.0")
	scanned := waitScanned(t, repo, 4)
	controllertest.WaitEvent(t, env.Kube, scanned, corev1.EventTypeNormal, meta.SucceededReason,
		"successful scan: found 4 tags with checksum "+scanned.Status.LastScanResult.Revision)
	if p := got.Status.ObservedPreviousRef; p == nil || p.Tag != "1.3.0" {
		t.Errorf("observedPreviousRef %+v", p)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, "resolved to 1.4.0")
}

// TestPolicies covers each policy, filter and extract on the documented
// examples.
func TestPolicies(t *testing.T) {
	ns := env.Namespace(t)
	scannedRepo(t, ns, "v", "v1.0.0", "v1.2.0", "v2.0.0-rc.1", "0.9.0", "latest")
	scannedRepo(t, ns, "letters", "a", "c", "b")
	scannedRepo(t, ns, "numbers", "1", "10", "9")
	scannedRepo(t, ns, "builds", "main-abc1234-100", "main-def5678-200", "dev-0123456-300")
	cases := []struct {
		name, repo string
		policy     imagev1.ImagePolicyChoice
		filter     *imagev1.TagFilter
		want       string
	}{
		{"v-prefixed", "v", semver(">=1.0.0"), nil, "v1.2.0"},
		{"prerelease", "v", semver(">=1.0.0-0"), nil, "v2.0.0-rc.1"},
		{"alpha-asc", "letters", imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "asc"}}, nil, "c"},
		{"alpha-desc", "letters", imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "desc"}}, nil, "a"},
		{"num-asc", "numbers", imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "asc"}}, nil, "10"},
		{"num-desc", "numbers", imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "desc"}}, nil, "1"},
		{"extract", "builds", imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "asc"}},
			&imagev1.TagFilter{Pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, Extract: "$ts"}, "main-def5678-200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := createPolicy(t, ns, c.name, imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef(c.repo), Policy: c.policy, FilterTags: c.filter})
			waitLatest(t, pol, c.want)
		})
	}
}

// TestNoMatchKeepsPrevious: a range nothing matches says how many tags it
// saw and keeps the previous latestRef; a bad range stalls.
func TestNoMatchKeepsPrevious(t *testing.T) {
	ns := env.Namespace(t)
	scannedRepo(t, ns, "app", "1.2.3", "1.3.0", "2.0.0")
	pol := createPolicy(t, ns, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver("1.x"),
		FilterTags: &imagev1.TagFilter{Pattern: `^1\.`}})
	waitLatest(t, pol, "1.3.0")

	controllertest.Update(t, kube, pol, func(o *imagev1.ImagePolicy) { o.Spec.Policy = semver(">=1.5.0 <2.0.0") })
	want := "no tag of 3 (2 after the filter) matches semver range '>=1.5.0 <2.0.0'"
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "no match", func(o *imagev1.ImagePolicy) bool {
		r := ready(o)
		return r != nil && r.Status == metav1.ConditionFalse && strings.Contains(r.Message, want)
	})
	controllertest.AssertKStatus(t, got)
	if m := ready(got).Message; !strings.Contains(m, want) {
		t.Errorf("message %q does not say %q", m, want)
	}
	if got.Status.LatestRef == nil || got.Status.LatestRef.Tag != "1.3.0" {
		t.Errorf("previous latestRef not kept: %+v", got.Status.LatestRef)
	}

	controllertest.Update(t, kube, pol, func(o *imagev1.ImagePolicy) { o.Spec.Policy = semver("not a range") })
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "a stall naming the range", func(o *imagev1.ImagePolicy) bool {
		return reconcile.IsTrue(o, meta.StalledCondition) && strings.Contains(ready(o).Message, "'not a range'")
	})
	controllertest.AssertKStatus(t, got)
	if got.Status.LatestRef == nil || got.Status.LatestRef.Tag != "1.3.0" {
		t.Errorf("previous latestRef not kept: %+v", got.Status.LatestRef)
	}
}

// TestDigestReflection fills latestRef.digest from the registry with
// IfNotPresent.
func TestDigestReflection(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.Start(t, ocitest.Options{})
	digest := pushTags(t, reg, "app", "1.0.0")
	repo := createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/app", Insecure: true})
	waitScanned(t, repo, 1)
	pol := createPolicy(t, ns, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver(">=1.0.0"),
		DigestReflectionPolicy: imagev1.ReflectIfNotPresent})
	got := waitLatest(t, pol, "1.0.0")
	if got.Status.LatestRef.Digest != digest {
		t.Errorf("digest %q, want %q", got.Status.LatestRef.Digest, digest)
	}

	always := createPolicy(t, ns, "always", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver(">=1.0.0"),
		DigestReflectionPolicy: imagev1.ReflectAlways, Interval: &metav1.Duration{Duration: time.Second}})
	waitLatest(t, always, "1.0.0")
	moved := pushTags(t, reg, "app", "1.0.0")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(always), "the moved tag's digest", func(o *imagev1.ImagePolicy) bool {
		return o.Status.LatestRef != nil && o.Status.LatestRef.Digest == moved
	})
	if p := got.Status.ObservedPreviousRef; p == nil || p.Digest != digest {
		t.Errorf("observedPreviousRef %+v", p)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, "updated from "+digest+" to "+moved)
	// IfNotPresent keeps the digest it has for the same tag.
	if got := waitLatest(t, pol, "1.0.0"); got.Status.LatestRef.Digest != digest {
		t.Errorf("IfNotPresent digest changed to %q", got.Status.LatestRef.Digest)
	}
}

// TestRepositoryWatch: a policy whose repository does not exist yet waits
// (DependencyNotReady) and is evaluated as soon as the repository has
// scanned: the main controllers look again after an hour only, so only the
// watch can bring it back in time.
func TestRepositoryWatch(t *testing.T) {
	ns := env.Namespace(t)
	pol := createPolicy(t, ns, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver(">=1.0.0")})
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "DependencyNotReady", func(o *imagev1.ImagePolicy) bool {
		r := ready(o)
		return r != nil && r.Reason == meta.DependencyNotReadyReason
	})
	scannedRepo(t, ns, "app", "1.0.0", "1.1.0")
	waitLatest(t, pol, "1.1.0")
}

// TestCrossNamespace: a policy may use a repository of another namespace
// only when the repository's accessFrom selects the policy's namespace;
// under --no-cross-namespace-refs never.
func TestCrossNamespace(t *testing.T) {
	repoNS, polNS := env.Namespace(t), env.Namespace(t)
	_, repo := scannedRepo(t, repoNS, "app", "1.0.0")
	ref := meta.NamespacedObjectReference{Name: "app", Namespace: repoNS}
	pol := createPolicy(t, polNS, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: ref, Policy: semver(">=1.0.0")})
	got := controllertest.WaitNotReady(t, kube, pol, meta.AccessDeniedReason)
	if m := ready(got).Message; !strings.Contains(m, "spec.accessFrom") {
		t.Errorf("message %q", m)
	}

	controllertest.Update(t, kube, repo, func(o *imagev1.ImageRepository) {
		o.Spec.AccessFrom = &meta.AccessFrom{NamespaceSelectors: []meta.NamespaceSelector{{MatchLabels: map[string]string{"team": "payments"}}}}
	})
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "still denied", func(o *imagev1.ImagePolicy) bool {
		r := ready(o)
		return r != nil && r.Reason == meta.AccessDeniedReason && strings.Contains(r.Message, "do not select")
	})
	controllertest.Patch(t, kube, &corev1.Namespace{ObjectMeta: metaName(polNS)}, `{"metadata":{"labels":{"team":"payments"}}}`)
	waitLatest(t, pol, "1.0.0")

	locked := createPolicy(t, polNS, "locked", imagev1.ImagePolicySpec{ImageRepositoryRef: ref, Policy: semver(">=1.0.0")}, shardLabel+"=lockdown")
	got = controllertest.WaitNotReady(t, kube, locked, meta.AccessDeniedReason)
	if !reconcile.IsTrue(got, meta.StalledCondition) || !strings.Contains(ready(got).Message, "cross-namespace references have been disabled") {
		t.Errorf("lockdown:\n%s", controllertest.Describe(got))
	}
}

// TestLostTags: a policy evaluated after the store lost its repository's
// tag file (deleted, corrupt) asks the repository to scan again at once,
// rather than at its hourly interval, and then picks from the new scan.
func TestLostTags(t *testing.T) {
	ns := env.Namespace(t)
	reg, _ := scannedRepo(t, ns, "app", "1.0.0", "1.1.0")
	pol := createPolicy(t, ns, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: repoRef("app"), Policy: semver(">=1.0.0")})
	waitLatest(t, pol, "1.1.0")
	before := tagListRequests(t, reg, "app")

	if err := os.RemoveAll(tagDir(storagePath, ns, "app")); err != nil {
		t.Fatal(err)
	}
	controllertest.Update(t, kube, pol, func(o *imagev1.ImagePolicy) { o.Spec.Policy = semver("1.0.x") })
	waitRequests(t, reg, "app", before+1)
	waitLatest(t, pol, "1.0.0")
}
