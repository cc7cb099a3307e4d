package reliability

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func targetCM(generation string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: target}\ndata: {generation: \"" + generation + "\"}\n"
}

// TestArtifactDigestMismatch: the GitRepository records the digest of a new
// artifact; before the Kustomization reads it, the file in the controller's
// storage is replaced by a valid archive of other manifests (a changed
// ConfigMap and a planted one). The Kustomization must refuse it:
// Ready=False ArtifactFailed naming the digest, nothing of the archive
// applied. When the true file is back, its next retry applies it.
func TestArtifactDigestMismatch(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "Artifact file altered in storage after the GitRepository recorded its digest",
		Expected: "no apply: Ready=False ArtifactFailed naming the digest; applied objects unchanged; the true artifact applied on the next retry (spec.retryInterval)",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	storage := t.TempDir()
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"deploy/target.yaml": targetCM("1")}, "one")
	first := "main@sha1:" + repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, kube, ns, srv, repo)
	kustomization(t, kube, ns, "app", "./deploy")
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: storage})
	waitApplied(t, kube, ns, "app", first, time.Minute)
	uid := uidOf(t, ns, "target")

	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}}
	// Retry failures every 2s rather than at the interval (an hour).
	patchSpec(t, ks, `{"retryInterval":"2s","suspend":true}`)
	second := "main@sha1:" + repo.CommitFiles("main", map[string]string{"deploy/target.yaml": targetCM("2")}, "two")
	src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns}}
	requestReconcile(t, kube, src, "two")
	a := waitSource(t, ns, "the second artifact", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.Artifact != nil && o.Status.Artifact.Revision == second
	}).Status.Artifact

	// Replace the stored file, keeping its name, with a valid archive.
	file := filepath.Join(storage, filepath.FromSlash(a.Path))
	genuine, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the artifact is not in storage at %s: %v", file, err)
	}
	forged := tarGz(t, map[string]string{
		"deploy/target.yaml":  targetCM("forged"),
		"deploy/planted.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted}\ndata: {by: attacker}\n",
	})
	if err := os.WriteFile(file, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	if status, digest := fetch(t, a.URL); status != 200 || digest == a.Digest {
		t.Fatalf("the artifact server answers %d with digest %s; the test needs the forged file served", status, digest)
	}
	cur := &kustomizev1.Kustomization{}
	if err := kube.Get(ctx, client.ObjectKeyFromObject(ks), cur); err != nil {
		t.Fatal(err)
	}
	if cur.Status.LastAttemptedRevision != first {
		t.Fatalf("the suspended Kustomization attempted %s before the file was forged", cur.Status.LastAttemptedRevision)
	}

	resumed := time.Now()
	patchSpec(t, ks, `{"suspend":false}`)
	requestReconcile(t, kube, ks, "forged")
	var cond *metav1.Condition
	testcluster.Eventually(t, time.Minute, "Ready=False ArtifactFailed", func() (bool, error) {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(ks), cur); err != nil {
			return false, err
		}
		cond = reconcile.Get(cur, meta.ReadyCondition)
		return cur.Status.LastHandledReconcileAt == "forged" && cond != nil && cond.Status == metav1.ConditionFalse &&
			cond.Reason == meta.ArtifactFailedReason, nil
	})
	refusedIn := time.Since(resumed)
	if !strings.Contains(cond.Message, a.Digest) {
		t.Errorf("ArtifactFailed %q does not name the digest %s", cond.Message, a.Digest)
	}
	if cur.Status.LastAppliedRevision != first {
		t.Errorf("last applied revision %s, want %s kept", cur.Status.LastAppliedRevision, first)
	}
	wrong := 0
	check := func(when, generation string) {
		var cm corev1.ConfigMap
		if err := kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "target"}, &cm); err != nil {
			r.Lost = 1
			t.Errorf("%s: ConfigMap target: %v", when, err)
		} else if cm.Data["generation"] != generation || string(cm.UID) != uid {
			if string(cm.UID) != uid {
				wrong++
			}
			t.Errorf("%s: target has generation %q and UID %s, want %q and %s", when, cm.Data["generation"], cm.UID, generation, uid)
		}
		if err := kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "planted"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s: the planted ConfigMap exists (%v): the forged archive was applied", when, err)
		}
	}
	check("forged file", "1")
	ctrl.running(t)

	// The genuine file back: the Kustomization's next retry applies it.
	if err := os.WriteFile(file, genuine, 0o644); err != nil {
		t.Fatal(err)
	}
	restored := time.Now()
	waitApplied(t, kube, ns, "app", second, time.Minute)
	r.Recovery = time.Since(restored)
	check("genuine file restored", "2")
	r.Wrong = wrong
	r.Observed = fmt.Sprintf("refused in %s: Ready=False %s %q; target kept at generation 1 with its UID, "+
		"planted ConfigMap absent; genuine file restored: applied by the next retry (retryInterval 2s) with no request",
		refusedIn.Round(time.Millisecond), cond.Reason, digestPart(cond.Message))
}

// digestPart keeps the part of an ArtifactFailed message from "digest mismatch" on.
func digestPart(msg string) string {
	if i := strings.Index(msg, "digest mismatch"); i > 0 {
		return "…" + msg[i:]
	}
	return msg
}

// patchSpec merges spec into the Kustomization's spec.
func patchSpec(t *testing.T, ks *kustomizev1.Kustomization, spec string) {
	t.Helper()
	patch := `{"spec":` + spec + `}`
	testcluster.Eventually(t, 30*time.Second, "patch the spec with "+spec, func() (bool, error) {
		err := kube.Patch(context.Background(), ks, client.RawPatch(types.MergePatchType, []byte(patch)))
		return err == nil, err
	})
}

// tarGz builds a gzipped tarball of files.
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
