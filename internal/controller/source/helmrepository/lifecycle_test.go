package helmrepository_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	repo "helm.sh/helm/v4/pkg/repo/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// versionsOf lists, chart by chart, the versions of an index and the
// digest of each archive, as Helm's own index code reads it.
func versionsOf(t *testing.T, idx *repo.IndexFile) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, versions := range idx.Entries {
		for _, v := range versions {
			out[name] = append(out[name], v.Version+"@"+v.Digest)
		}
		slices.Sort(out[name])
	}
	return out
}

func TestIndexArtifactIsTheSortedIndexAtItsDigest(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1"} {
		kit.MustPublish(t, helmtest.ConfigMapChart("app", v))
	}
	kit.MustPublish(t, helmtest.ConfigMapChart("tool", "0.3.0"))

	obj := create(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: kit.URL})
	got := controllertest.WaitReady(t, kube, obj)
	a := got.Status.Artifact
	if a == nil {
		t.Fatal("Ready without an artifact")
	}
	controllertest.AssertKStatus(t, got)

	// The revision and the digest are the sha256 of the bytes served.
	body, digest := download(t, a.URL)
	if a.Revision != digest || a.Digest != digest {
		t.Errorf("revision %s, digest %s; the stored index hashes to %s", a.Revision, a.Digest, digest)
	}
	if want := "helmrepository/" + ns + "/charts/index-" + strings.TrimPrefix(digest, "sha256:") + ".yaml"; a.Path != want {
		t.Errorf("artifact path %s, want %s", a.Path, want)
	}
	if a.Size == nil || *a.Size != int64(len(body)) {
		t.Errorf("artifact size %v, want %d", a.Size, len(body))
	}
	// status.url is the stable index.yaml link to the same bytes.
	if !strings.HasSuffix(got.Status.URL, "/helmrepository/"+ns+"/charts/index.yaml") {
		t.Errorf("status.url %s", got.Status.URL)
	}
	if linked, _ := download(t, got.Status.URL); string(linked) != string(body) {
		t.Error("status.url does not serve the artifact")
	}
	// What is stored is the repository's index, as Helm reads both.
	var stored repo.IndexFile
	if err := yaml.Unmarshal(body, &stored); err != nil {
		t.Fatalf("the stored index is not a Helm index: %v", err)
	}
	served, err := kit.Index()
	if err != nil {
		t.Fatal(err)
	}
	if g, w := versionsOf(t, &stored), versionsOf(t, served); !mapsEqual(g, w) {
		t.Errorf("stored index lists %v, the repository %v", g, w)
	}
	if c := condition(got, meta.ReadyCondition); c.Message != "stored artifact for revision '"+digest+"'" {
		t.Errorf("Ready message %q", c.Message)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, "NewArtifact", "stored fetched index of size ")
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, "NewArtifact", "from '"+kit.URL+"'")

	// The same entries in another order are the same index: nothing new is
	// written.
	reordered := reverseEntries(t, kit.IndexYAML())
	kit.SetIndex(reordered)
	again := reconcileNow(t, got, "reordered")
	if again.Status.Artifact.Path != a.Path || !again.Status.Artifact.LastUpdateTime.Equal(&a.LastUpdateTime) {
		t.Errorf("a reordered index made a new artifact: %+v", again.Status.Artifact)
	}
	kit.SetIndex(nil)

	// A new version is a new index: a new artifact, the old one garbage
	// collected past retention, status.url moved along.
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.2.0"))
	controllertest.RequestReconcile(t, kube, got, "published")
	newer := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "a new index", func(o *sourcev1.HelmRepository) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Revision != a.Revision
	})
	newBody, newDigest := download(t, newer.Status.URL)
	if newer.Status.Artifact.Revision != newDigest || !strings.Contains(string(newBody), "1.2.0") {
		t.Errorf("new artifact %s does not hold the new version (served digest %s)", newer.Status.Artifact.Revision, newDigest)
	}
}

// reverseEntries rewrites an index with every chart's versions in reverse
// order and the charts written in reverse: the same index to Helm.
func reverseEntries(t *testing.T, raw []byte) []byte {
	t.Helper()
	var idx map[string]any
	if err := yaml.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	entries := idx["entries"].(map[string]any)
	for name, list := range entries {
		l := list.([]any)
		slices.Reverse(l)
		entries[name] = l
	}
	out, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) == string(raw) {
		t.Fatal("reordering changed nothing: the test would prove nothing")
	}
	return out
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestHelmCLIReadsTheStoredIndex(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	for _, v := range []string{"0.1.0", "0.2.0", "1.0.0"} {
		kit.MustPublish(t, helmtest.ConfigMapChart("web", v))
	}
	obj := create(t, ns, "web", sourcev1.HelmRepositorySpec{URL: kit.URL})
	got := controllertest.WaitReady(t, kube, obj)

	helm := helmtest.NewCLI(t)
	helm.Run(t, "repo", "add", "kit", kit.URL)
	// The artifact server serves the stored index at status.url, which is
	// <dir>/index.yaml: a repository Helm can add.
	helm.Run(t, "repo", "add", "stored", strings.TrimSuffix(got.Status.URL, "/index.yaml"))
	fromKit := helm.Run(t, "search", "repo", "kit/web", "--versions", "-o", "json")
	fromStored := helm.Run(t, "search", "repo", "stored/web", "--versions", "-o", "json")
	if strings.ReplaceAll(fromStored, "stored/web", "kit/web") != fromKit {
		t.Errorf("helm search of the stored index:\n%s\nof the repository:\n%s", fromStored, fromKit)
	}
	for _, v := range []string{"0.1.0", "0.2.0", "1.0.0"} {
		if !strings.Contains(fromStored, `"version":"`+v+`"`) {
			t.Errorf("helm does not list version %s in the stored index: %s", v, fromStored)
		}
	}
}

func TestTypeOCIIsADataObjectAndSwitchingCleansUp(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	obj := create(t, ns, "switch", sourcev1.HelmRepositorySpec{URL: kit.URL})
	got := controllertest.WaitReady(t, kube, obj)
	dir := filepath.Join(storageDir, "helmrepository", ns, "switch")
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(got.Status.Artifact.Path))); err != nil {
		t.Fatalf("artifact not in storage: %v", err)
	}

	controllertest.Patch(t, kube, got, `{"spec":{"type":"oci","url":"oci://registry.example/charts"}}`)
	inert := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "an empty status and no finalizer", func(o *sourcev1.HelmRepository) bool {
		return len(o.Finalizers) == 0 && o.Status.Artifact == nil && len(o.Status.Conditions) == 0 && o.Status.URL == ""
	})
	if inert.Status.ObservedGeneration != 0 {
		t.Errorf("observedGeneration %d kept", inert.Status.ObservedGeneration)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("storage of the former index left behind: %v", err)
	}
	// Asked to reconcile, an oci repository is left as it is (checked once
	// a repository created after the request was reconciled; the check
	// that matters is the switch above, which must happen).
	controllertest.RequestReconcile(t, kube, inert, "oci")
	other := create(t, ns, "marker", sourcev1.HelmRepositorySpec{URL: kit.URL})
	controllertest.WaitReady(t, kube, other)
	if o := get(t, inert); len(o.Finalizers) != 0 || len(o.Status.Conditions) != 0 || o.Status.LastHandledReconcileAt != "" {
		t.Errorf("an oci HelmRepository got state: finalizers %v, status %+v", o.Finalizers, o.Status)
	}

	// Back to an HTTP repository: fetched again.
	controllertest.Patch(t, kube, inert, `{"spec":{"type":"default","url":"`+kit.URL+`"}}`)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "an artifact again", func(o *sourcev1.HelmRepository) bool {
		return o.Status.Artifact != nil && len(o.Finalizers) == 1
	})
	controllertest.WaitReady(t, kube, obj)
}

func TestDeletionRemovesTheStoredIndex(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	obj := create(t, ns, "gone", sourcev1.HelmRepositorySpec{URL: kit.URL})
	controllertest.WaitReady(t, kube, obj)
	if err := kube.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	err := testcluster.Poll(30*time.Second, func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), &sourcev1.HelmRepository{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("HelmRepository not deleted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(storageDir, "helmrepository", ns, "gone")); !os.IsNotExist(err) {
		t.Errorf("storage left behind: %v", err)
	}
}
