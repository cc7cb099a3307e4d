package ocirepository_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/source/ocirepository"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/tartest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestUnchangedIsOneHead follows a tag through new pushes: an unchanged
// digest costs one HEAD and nothing else, a new digest is pulled, stored
// and announced, and older artifacts are garbage-collected.
func TestUnchangedIsOneHead(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	first := reg.pushFiles(t, "app", "main", map[string]string{"v": "1"}, nil)
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "main"}, Insecure: true})
	got := waitRevision(t, obj, "main@"+first)

	reg.resetCounts()
	controllertest.RequestReconcile(t, kube, obj, "unchanged")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "request handled", func(o *sourcev1.OCIRepository) bool {
		return o.Status.LastHandledReconcileAt == "unchanged"
	})
	if h, g, b := reg.manifestHeads.Load(), reg.manifestGets.Load(), reg.blobGets.Load(); h != 1 || g != 0 || b != 0 {
		t.Errorf("an unchanged digest cost %d manifest HEADs, %d manifest GETs, %d blob GETs; want one HEAD only", h, g, b)
	}
	if !reconcile.IsTrue(got, meta.ReadyCondition) || got.Status.Artifact.Revision != "main@"+first {
		t.Errorf("after an unchanged pass:\n%s", controllertest.Describe(got))
	}

	current := first
	for _, v := range []string{"2", "3", "4"} {
		current = reg.pushFiles(t, "app", "main", map[string]string{"v": v}, nil)
		controllertest.RequestReconcile(t, kube, obj, "push-"+v)
		got = waitRevision(t, obj, "main@"+current)
		if f := controllertest.ArtifactFiles(t, got.Status.Artifact); f["v"] != v {
			t.Errorf("push %s: files %v", v, f)
		}
		controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, current)
	}
	// Retention: at most 2 artifacts (--artifact-retention-records), the
	// current one kept and linked as latest.tar.gz.
	dir := filepath.Join(storageDir, "ocirepository", ns, "app")
	currentFile := strings.TrimPrefix(current, "sha256:") + ".tar.gz"
	testcluster.Eventually(t, 30*time.Second, "old artifacts collected", func() (bool, error) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false, err
		}
		var tarballs []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tar.gz") && e.Type().IsRegular() {
				tarballs = append(tarballs, e.Name())
			}
		}
		return len(tarballs) <= 2 && contains(tarballs, currentFile) &&
			!contains(tarballs, strings.TrimPrefix(first, "sha256:")+".tar.gz"), nil
	})
	if target, err := os.Readlink(filepath.Join(dir, ocirepository.LatestLink)); err != nil || target != currentFile {
		t.Errorf("latest.tar.gz -> %q (%v), want %s", target, err, currentFile)
	}
}

// TestIgnoreRules archives an extracted layer without the default
// exclusions, then with spec.ignore replacing them (same digest, a new
// artifact: observedIgnore changed), and honours a .sourceignore shipped in
// the artifact.
func TestIgnoreRules(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	content := map[string]string{
		"deploy/app.yaml": "app", "docs/readme.md": "docs", "logo.png": "png",
		".github/workflows/ci.yaml": "ci", ".git/config": "git",
	}
	d := reg.pushFiles(t, "app", "v1", content, nil)
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}, Insecure: true})
	got := waitRevision(t, obj, "v1@"+d)
	if n := names(controllertest.ArtifactFiles(t, got.Status.Artifact)); n != "deploy/app.yaml,docs/readme.md" {
		t.Errorf("default exclusions: files %s", n)
	}
	before := got.Status.Artifact.Digest

	ignore := "docs/\n"
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.Ignore = &ignore })
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "observedIgnore", func(o *sourcev1.OCIRepository) bool {
		return o.Status.ObservedIgnore != nil && *o.Status.ObservedIgnore == ignore && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	if got.Status.Artifact.Digest == before {
		t.Error("a new spec.ignore did not rebuild the artifact")
	}
	if n := names(controllertest.ArtifactFiles(t, got.Status.Artifact)); n != ".github/workflows/ci.yaml,deploy/app.yaml,logo.png" {
		t.Errorf("spec.ignore replaces the defaults (VCS files stay out): files %s", n)
	}

	d2 := reg.pushFiles(t, "app", "v2", map[string]string{".sourceignore": "*.md\n/tmp/\n", "a.yaml": "a", "b.md": "b", "tmp/x": "x", "sub/c.md": "c"}, nil)
	other := create(t, ns, "sourceignore", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "v2"}, Insecure: true})
	got = waitRevision(t, other, "v2@"+d2)
	if n := names(controllertest.ArtifactFiles(t, got.Status.Artifact)); n != ".sourceignore,a.yaml" {
		t.Errorf(".sourceignore: files %s", n)
	}
}

// TestCopyLayer stores a Helm chart layer as it is (layerSelector with
// operation copy) as <digest-hex>.tgz, then extracts it when the
// selector changes.
func TestCopyLayer(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	const chartType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	chart := tartest.TarGz(t, tartest.Files(map[string]string{"podinfo/Chart.yaml": "name: podinfo\nversion: 6.0.0\n", "podinfo/values.yaml": "replicas: 1\n"})...)
	img := fluxImage(t, map[string]string{"org.opencontainers.image.title": "podinfo"},
		staticLayer(tartest.TarGz(t, tartest.Files(map[string]string{"other": "x"})...), "application/vnd.cncf.helm.config.v1+json"),
		staticLayer(chart, chartType))
	d := reg.push(t, "charts/podinfo", "6.0.0", img)
	ns := env.Namespace(t)
	sel := &sourcev1.OCILayerSelector{MediaType: chartType, Operation: sourcev1.OCILayerCopy}
	obj := create(t, ns, "chart", sourcev1.OCIRepositorySpec{URL: reg.url("charts/podinfo"),
		Reference: &sourcev1.OCIRepositoryRef{Tag: "6.0.0"}, LayerSelector: sel, Insecure: true})
	got := waitRevision(t, obj, "6.0.0@"+d)
	a := got.Status.Artifact
	if want := "ocirepository/" + ns + "/chart/" + strings.TrimPrefix(d, "sha256:") + ".tgz"; a.Path != want {
		t.Errorf("path %s, want %s", a.Path, want)
	}
	body, digest := download(t, a.URL)
	if string(body) != string(chart) || digest != a.Digest {
		t.Errorf("the stored artifact is not the layer verbatim (digest %s, artifact %s)", digest, a.Digest)
	}
	if o := got.Status.ObservedLayerSelector; o == nil || *o != *sel {
		t.Errorf("observedLayerSelector %+v", o)
	}
	if a.Metadata["org.opencontainers.image.title"] != "podinfo" {
		t.Errorf("metadata %v", a.Metadata)
	}
	if _, latest := download(t, got.Status.URL); latest != a.Digest {
		t.Errorf("status.url does not serve the copied layer")
	}

	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.LayerSelector.Operation = sourcev1.OCILayerExtract })
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "extracted", func(o *sourcev1.OCIRepository) bool {
		return o.Status.ObservedLayerSelector != nil && o.Status.ObservedLayerSelector.Operation == sourcev1.OCILayerExtract &&
			reconcile.IsTrue(o, meta.ReadyCondition)
	})
	if !strings.HasSuffix(got.Status.Artifact.Path, ".tar.gz") {
		t.Errorf("extract stored %s", got.Status.Artifact.Path)
	}
	if n := names(controllertest.ArtifactFiles(t, got.Status.Artifact)); n != "podinfo/Chart.yaml,podinfo/values.yaml" {
		t.Errorf("extracted files %s", n)
	}
}

// TestSuspendResumeAndDeletion: nothing moves while suspended, the request
// made meanwhile is handled on resume, and deletion removes the storage.
func TestSuspendResumeAndDeletion(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	first := reg.pushFiles(t, "app", "main", map[string]string{"v": "1"}, nil)
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "main"}, Insecure: true})
	waitRevision(t, obj, "main@"+first)

	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.Suspend = true })
	second := reg.pushFiles(t, "app", "main", map[string]string{"v": "2"}, nil)
	controllertest.RequestReconcile(t, kube, obj, "while-suspended")
	if got := get(t, obj); got.Status.Artifact.Revision != "main@"+first {
		t.Errorf("suspended object moved to %s", got.Status.Artifact.Revision)
	}
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.Suspend = false })
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "new revision after resume", func(o *sourcev1.OCIRepository) bool {
		return o.Status.Artifact.Revision == "main@"+second && o.Status.LastHandledReconcileAt == "while-suspended"
	})

	dir := filepath.Join(storageDir, "ocirepository", ns, "app")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("storage directory missing before deletion: %v", err)
	}
	if err := kube.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 30*time.Second, "object gone", func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), &sourcev1.OCIRepository{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("storage directory left after deletion: %v", err)
	}
}

// TestTimeoutOnHangingRegistry: a registry that never answers fails the
// pass after spec.timeout, saying so, and the object retries.
func TestTimeoutOnHangingRegistry(t *testing.T) {
	reg := newRegistry(t, regOptions{hang: true})
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"},
		Insecure: true, Timeout: &metav1.Duration{Duration: 2 * time.Second}})
	got := controllertest.WaitNotReady(t, kube, obj, sourcev1.OCIPullFailedReason)
	msg := condition(got, meta.ReadyCondition).Message
	for _, want := range []string{reg.host, "app", `"v1"`, "timeout", "2s"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not name %q", msg, want)
		}
	}
	if c := condition(got, sourcev1.FetchFailedCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("FetchFailed %+v", c)
	}
	if reconcile.IsTrue(got, meta.StalledCondition) || !reconcile.IsTrue(got, meta.ReconcilingCondition) {
		t.Errorf("a timeout is retried, not stalled:\n%s", controllertest.Describe(got))
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.OCIPullFailedReason, "timeout")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
