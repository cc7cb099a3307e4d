package image_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/tagstore"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// TestScan lists a real registry's tags: the cosign signature tag is
// excluded by default, the status carries Flux's fields and message, the
// store holds the list at the reported revision; a new exclusion list
// rescans at once, and deleting the object deletes the stored tags.
func TestScan(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	pushTags(t, reg, "team/app", "1.2.3", "1.3.0", "2.0.0", "sha256-abc.sig")
	ns := env.Namespace(t)
	obj := createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/team/app", Insecure: true})

	got := waitScanned(t, obj, 3)
	want := []string{"1.2.3", "1.3.0", "2.0.0"}
	res := got.Status.LastScanResult
	if res.Revision != tagstore.Revision(want) {
		t.Errorf("revision %s, want the revision of %v", res.Revision, want)
	}
	if !slices.Equal(res.LatestTags, []string{"2.0.0", "1.3.0", "1.2.3"}) {
		t.Errorf("latestTags %v", res.LatestTags)
	}
	if got.Status.CanonicalImageName != reg.Host+"/team/app" {
		t.Errorf("canonicalImageName %q", got.Status.CanonicalImageName)
	}
	if !slices.Equal(got.Status.ObservedExclusionList, []string{imagev1.DefaultExclusionPattern}) {
		t.Errorf("observedExclusionList %v", got.Status.ObservedExclusionList)
	}
	wantMsg := "successful scan: found 3 tags with checksum " + res.Revision
	if m := ready(got).Message; m != wantMsg {
		t.Errorf("Ready message %q, want %q", m, wantMsg)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, wantMsg)

	controllertest.Update(t, kube, obj, func(o *imagev1.ImageRepository) { o.Spec.ExclusionList = []string{`^1\.`} })
	got = waitScanned(t, obj, 2)
	if !slices.Equal(got.Status.LastScanResult.LatestTags, []string{"sha256-abc.sig", "2.0.0"}) {
		t.Errorf("latestTags with exclusion ^1\\.: %v", got.Status.LastScanResult.LatestTags)
	}
	if !slices.Equal(got.Status.ObservedExclusionList, []string{`^1\.`}) {
		t.Errorf("observedExclusionList %v", got.Status.ObservedExclusionList)
	}

	dir := tagDir(storagePath, ns, "app")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("no stored tags: %v", err)
	}
	if err := kube.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	waitGone(t, obj)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the stored tags outlive the ImageRepository: %v", err)
	}
}

// TestCredentials scans a registry behind htpasswd basic auth: without
// credentials and with a wrong password the refusal is
// AuthenticationFailed naming the Secret (never the password); the right
// dockerconfigjson Secret scans.
func TestCredentials(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{Auth: ocitest.BasicAuth})
	pushTags(t, reg, "private/app", "v1", "v2")
	ns := env.Namespace(t)
	obj := createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/private/app", Insecure: true})

	refused := func(want string) {
		t.Helper()
		got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "refusal naming "+want, func(o *imagev1.ImageRepository) bool {
			r := ready(o)
			return r != nil && r.Reason == imagev1.AuthenticationFailedReason && strings.Contains(r.Message, want)
		})
		controllertest.AssertKStatus(t, got)
		if msg := ready(got).Message; strings.Contains(msg, reg.Password) {
			t.Errorf("message leaks the password: %q", msg)
		}
	}
	refused("neither spec.secretRef nor the imagePullSecrets")

	wrong := secret(t, ns, "wrong", map[string][]byte{".dockerconfigjson": []byte(
		`{"auths":{"` + reg.Host + `":{"username":"` + reg.Username + `","password":"not-the-password"}}}`)})
	controllertest.Update(t, kube, obj, func(o *imagev1.ImageRepository) { o.Spec.SecretRef = wrong })
	refused("Secret '" + ns + "/wrong' (spec.secretRef)")

	controllertest.Update(t, kube, obj, func(o *imagev1.ImageRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "right"} })
	refused("failed to get secret '" + ns + "/right'")
	// The Secret appears later: the retry after the failure scans, with
	// no spec change and long before the interval.
	right := secret(t, ns, "right", map[string][]byte{".dockerconfigjson": reg.DockerConfigJSON()})
	waitScanned(t, obj, 2)

	// A scan that fails after a good one is retried with back-off, and the
	// retry scans: it does not wait for the interval.
	if err := kube.Delete(context.Background(), &corev1.Secret{ObjectMeta: metaNS(ns, right.Name)}); err != nil {
		t.Fatal(err)
	}
	pushTags(t, reg, "private/app", "v3")
	controllertest.RequestReconcile(t, kube, obj, "secret-gone")
	refused("failed to get secret '" + ns + "/right'")
	secret(t, ns, "right", map[string][]byte{".dockerconfigjson": reg.DockerConfigJSON()})
	waitScanned(t, obj, 3)
}

// TestBadInput stalls on what only a spec change can fix, with Flux's
// messages for spec.image.
func TestBadInput(t *testing.T) {
	ns := env.Namespace(t)
	cases := []struct {
		name, reason, message string
		spec                  imagev1.ImageRepositorySpec
	}{
		{"scheme", imagev1.ImageURLInvalidReason, ".spec.image value should not start with URL scheme; remove 'https://'",
			imagev1.ImageRepositorySpec{Image: "https://ghcr.io/org/app"}},
		{"tag", imagev1.ImageURLInvalidReason, ".spec.image value should not contain a tag; remove ':1.0'",
			imagev1.ImageRepositorySpec{Image: "ghcr.io/org/app:1.0"}},
		{"exclusion", meta.FailedReason, "invalid exclusionList pattern '(unclosed'",
			imagev1.ImageRepositorySpec{Image: "ghcr.io/org/app", ExclusionList: []string{"^ok$", "(unclosed"}}},
		{"provider", imagev1.AuthenticationFailedReason, "cloud identity is not supported yet; use secretRef or serviceAccountName",
			imagev1.ImageRepositorySpec{Image: "123.dkr.ecr.us-east-1.amazonaws.com/app", Provider: imagev1.AWSRegistryProvider}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := createRepo(t, ns, c.name, c.spec)
			got := controllertest.WaitNotReady(t, kube, obj, c.reason)
			if !reconcile.IsTrue(got, meta.StalledCondition) {
				t.Errorf("not stalled:\n%s", controllertest.Describe(got))
			}
			if m := ready(got).Message; !strings.Contains(m, c.message) {
				t.Errorf("message %q does not say %q", m, c.message)
			}
		})
	}
}

// TestRegistryDown keeps the stored tags and lastScanResult when a rescan
// cannot reach the registry, and says which host failed.
func TestRegistryDown(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	pushTags(t, reg, "app", "1.0.0")
	ns := env.Namespace(t)
	obj := createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/app", Insecure: true})
	before := waitScanned(t, obj, 1).Status.LastScanResult
	pol := createPolicy(t, ns, "app", imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: "app"},
		Policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}}})
	polVersion := waitLatest(t, pol, "1.0.0").ResourceVersion

	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	controllertest.RequestReconcile(t, kube, obj, "registry-down")
	got := controllertest.WaitNotReady(t, kube, obj, imagev1.ReadOperationFailedReason)
	if m := ready(got).Message; !strings.Contains(m, reg.Host) {
		t.Errorf("message %q does not name the host %s", m, reg.Host)
	}
	if res := got.Status.LastScanResult; res == nil || res.Revision != before.Revision || !res.ScanTime.Equal(&before.ScanTime) {
		t.Errorf("lastScanResult not kept: %+v, was %+v", res, before)
	}
	if _, err := os.Stat(tagDir(storagePath, ns, "app")); err != nil {
		t.Errorf("stored tags gone: %v", err)
	}
	if p := waitLatest(t, pol, "1.0.0"); p.ResourceVersion != polVersion {
		t.Errorf("the policy changed while its registry was down:\n%s", controllertest.Describe(p))
	}
}

// TestRestart stops the controllers and starts them again on the same tag
// store: the repository whose tags are stored costs the registry no
// request before its interval, the one whose tag file was deleted is
// scanned again at once. A requestedAt then scans on demand.
func TestRestart(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	pushTags(t, reg, "kept", "1.0.0", "1.1.0")
	pushTags(t, reg, "lost", "2.0.0")
	ns := env.Namespace(t)
	dirs, err := tempDirs(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dirs[0]) })
	shard := shardLabel + "=restart-" + ns
	start := func() func() {
		stop, err := startReflector(env, dirs[0], func(o *manager.Options) { o.WatchLabelSelector = shard })
		if err != nil {
			t.Fatal(err)
		}
		return stop
	}
	stop := start()
	kept := createRepo(t, ns, "kept", imagev1.ImageRepositorySpec{Image: reg.Host + "/kept", Insecure: true}, shard)
	lost := createRepo(t, ns, "lost", imagev1.ImageRepositorySpec{Image: reg.Host + "/lost", Insecure: true}, shard)
	waitScanned(t, kept, 2)
	waitScanned(t, lost, 1)
	stop()

	keptRequests, lostRequests := tagListRequests(t, reg, "kept"), tagListRequests(t, reg, "lost")
	if err := os.RemoveAll(tagDir(dirs[0], ns, "lost")); err != nil {
		t.Fatal(err)
	}
	stop = start()
	defer stop()
	waitRequests(t, reg, "lost", lostRequests+1)
	waitStored(t, tagDir(dirs[0], ns, "lost"))
	if n := tagListRequests(t, reg, "kept"); n != keptRequests {
		t.Errorf("the registry saw %d tag list requests for the kept repository after the restart", n-keptRequests)
	}

	pushTags(t, reg, "kept", "1.2.0")
	controllertest.RequestReconcile(t, kube, kept, "after-push")
	waitScanned(t, kept, 3)
	if n := tagListRequests(t, reg, "kept"); n != keptRequests+1 {
		t.Errorf("requestedAt made %d tag list requests, want 1", n-keptRequests)
	}
}

// TestManyTags scans a repository of 2,500 tags (several pages of the tag
// list): every tag stored, one revision, Flux's ten latest tags.
func TestManyTags(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{})
	tags := make([]string, 2500)
	for i := range tags {
		tags[i] = fmt.Sprintf("1.%d.%d", i/100, i%100)
	}
	pushTags(t, reg, "many", tags...)
	ns := env.Namespace(t)
	got := waitScanned(t, createRepo(t, ns, "many", imagev1.ImageRepositorySpec{Image: reg.Host + "/many", Insecure: true}), len(tags))
	if rev := got.Status.LastScanResult.Revision; rev != tagstore.Revision(tags) {
		t.Errorf("revision %s, want %s", rev, tagstore.Revision(tags))
	}
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	if lt := got.Status.LastScanResult.LatestTags; !slices.Equal(lt, sorted[:10]) {
		t.Errorf("latestTags %v, want %v", lt, sorted[:10])
	}
}

// TestRestartScansWhenDue: after a restart a repository scanned a moment
// ago is not scanned at once, but when its interval since that scan ends,
// not a whole interval after the restart.
func TestRestartScansWhenDue(t *testing.T) {
	const interval = 10 * time.Second
	reg := ocitest.Start(t, ocitest.Options{})
	pushTags(t, reg, "app", "1.0.0")
	ns := env.Namespace(t)
	dirs, err := tempDirs(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dirs[0]) })
	shard := shardLabel + "=due-" + ns
	stop, err := startReflector(env, dirs[0], func(o *manager.Options) { o.WatchLabelSelector = shard })
	if err != nil {
		t.Fatal(err)
	}
	obj := createRepo(t, ns, "app", imagev1.ImageRepositorySpec{Image: reg.Host + "/app", Insecure: true,
		Interval: metav1.Duration{Duration: interval}}, shard)
	waitScanned(t, obj, 1)
	scanned := time.Now()
	stop()
	before := tagListRequests(t, reg, "app")

	// The restart comes well into the interval: a requeue of a whole
	// interval from here would scan 40% late.
	time.Sleep(interval * 4 / 10)
	stop, err = startReflector(env, dirs[0], func(o *manager.Options) { o.WatchLabelSelector = shard })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	waitRequests(t, reg, "app", before+1)
	if took := time.Since(scanned); took > interval*5/4 {
		t.Errorf("the scan after the restart came %s after the last one, want about %s", took.Round(time.Millisecond), interval)
	} else if took < interval*8/10 {
		t.Errorf("the restart scanned %s after the last scan, before the interval %s", took.Round(time.Millisecond), interval)
	}
}
