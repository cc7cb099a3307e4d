package reliability

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// storageSize is the size of the tmpfs under --storage-path: room for the
// small first artifact, not for the 3 MiB of random bytes of the second.
const storageSize = "1m"

// onTmpfs returns the command that runs the controller with a fresh tmpfs
// of storageSize mounted on dir, in a mount namespace of its own so the
// mount is private to it and vanishes with it. Root needs no more than
// `unshare --mount`; any other user gets a user namespace too
// (--map-root-user), where mounting a tmpfs is allowed.
func onTmpfs(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("this test mounts a small tmpfs with unshare(1) from util-linux, which is missing: %v", err)
	}
	wrap := []string{"unshare", "--mount", "--propagation", "private"}
	if os.Geteuid() != 0 {
		wrap = append(wrap, "--user", "--map-root-user")
	}
	script := `mount -t tmpfs -o size=` + storageSize + ` driftless-storage "$0" && exec "$@"`
	probe := exec.Command(wrap[0], append(wrap[1:], "sh", "-c", script, dir, "true")...)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Fatalf("cannot mount a tmpfs in a private mount namespace (%s): %v\n%s\n"+
			"run as root, or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "+
			"or kernel.apparmor_restrict_unprivileged_userns=0)", strings.Join(wrap, " "), err, out)
	}
	return append(wrap, "sh", "-c", script, dir)
}

// TestStorageFull runs the controller with --storage-path on a 1 MiB tmpfs
// and pushes a commit whose artifact cannot fit: StorageOperationFailed
// says the storage is full, the status keeps the previous artifact, which
// is still served with its digest, nothing of the new one is served, and
// the applied objects are left alone. Freeing the need (a commit without
// the big file) recovers.
func TestStorageFull(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "Storage disk full (a 1 MiB tmpfs under --storage-path)",
		Expected: "StorageOperationFailed saying no space is left; the previous artifact still served with its digest; nothing partial served",
	})
	ns := env.Namespace(t)
	storage := t.TempDir()
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: storage, wrap: onTmpfs(t, storage)})
	testcluster.Eventually(t, 30*time.Second, "the tmpfs mounted for the controller", func() (bool, error) {
		ctrl.running(t)
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", ctrl.cmd.Process.Pid))
		return err == nil && strings.Contains(string(info), " "+storage+" ") && strings.Contains(string(info), "tmpfs"), err
	})

	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\ndata: {k: v}\n"}, "one")
	first := "main@sha1:" + repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, kube, ns, srv, repo)
	kustomization(t, kube, ns, "app", "./deploy")
	before := waitSource(t, ns, "Ready at the first revision", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.Artifact != nil && o.Status.Artifact.Revision == first
	}).Status.Artifact
	waitApplied(t, kube, ns, "app", first, time.Minute)
	kept := uidOf(t, ns, "kept")

	big := make([]byte, 3<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	second := repo.CommitFiles("main", map[string]string{"blob/random.bin": string(big)}, "too big for the storage")
	src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns}}
	requestReconcile(t, kube, src, "full")
	full := waitSource(t, ns, "StorageOperationFailed", func(o *sourcev1.GitRepository) bool {
		c := reconcile.Get(o, sourcev1.StorageOperationFailedCondition)
		return o.Status.LastHandledReconcileAt == "full" && c != nil && c.Status == metav1.ConditionTrue
	})
	cond := reconcile.Get(full, sourcev1.StorageOperationFailedCondition)
	if cond.Reason != sourcev1.ArchiveOperationFailedReason || !strings.Contains(cond.Message, "no space left") {
		t.Errorf("StorageOperationFailed %s %q, want %s saying no space is left", cond.Reason, cond.Message, sourcev1.ArchiveOperationFailedReason)
	}
	if ready := reconcile.Get(full, meta.ReadyCondition); ready == nil || ready.Status != metav1.ConditionFalse {
		t.Errorf("Ready %+v, want False while the storage is full", ready)
	}
	if a := full.Status.Artifact; a == nil || a.Digest != before.Digest || a.URL != before.URL {
		t.Errorf("status artifact %+v changed while the storage was full; want %s", a, before.Digest)
	}
	status, digest := fetch(t, before.URL)
	if status != http.StatusOK || digest != before.Digest {
		t.Errorf("the previous artifact: HTTP %d, digest %s; want 200 and %s", status, digest, before.Digest)
	}
	partial := before.URL[:strings.LastIndex(before.URL, "/")+1] + second + ".tar.gz"
	if status, _ := fetch(t, partial); status != http.StatusNotFound {
		t.Errorf("the artifact that did not fit answers HTTP %d at %s, want 404", status, partial)
	}
	ctrl.running(t)
	wrong := 0
	if got := uidOf(t, ns, "kept"); got != kept {
		wrong++
		t.Errorf("the applied ConfigMap was deleted or recreated while the storage was full")
	}

	// Recovery: the big file goes; the next artifact fits.
	freed := time.Now()
	third := "main@sha1:" + repo.RemoveFiles("main", []string{"blob/random.bin"}, "smaller again")
	requestReconcile(t, kube, src, "freed")
	waitSource(t, ns, "Ready again", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.Artifact.Revision == third &&
			reconcile.Get(o, sourcev1.StorageOperationFailedCondition) == nil
	})
	waitApplied(t, kube, ns, "app", third, time.Minute)
	r.Recovery = time.Since(freed)
	if got := uidOf(t, ns, "kept"); got != kept {
		wrong++
		t.Errorf("the applied ConfigMap was deleted or recreated on recovery")
	}
	r.Lost, r.Wrong = 0, wrong
	if strings.HasPrefix(uidOf(t, ns, "kept"), "gone") {
		r.Lost = 1
	}
	said := cond.Message
	if i := strings.Index(said, "storage is full"); i >= 0 {
		said = "…" + strings.SplitN(said[i:], ":", 2)[0]
	}
	r.Observed = fmt.Sprintf("StorageOperationFailed=True %s %q, Ready=False; previous artifact served with its digest; "+
		"the new one 404; applied objects untouched; Ready again with the next commit that fits", cond.Reason, said)
}

func waitSource(t *testing.T, ns, what string, cond func(*sourcev1.GitRepository) bool) *sourcev1.GitRepository {
	t.Helper()
	o := &sourcev1.GitRepository{}
	err := testcluster.Poll(90*time.Second, func() (bool, error) {
		if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "repo"}, o); err != nil {
			return false, err
		}
		return cond(o), nil
	})
	if err != nil {
		t.Fatalf("GitRepository %s/repo: waiting for %s: %v\n%s", ns, what, err, conditionsOf(o.Status.Conditions))
	}
	return o
}

// fetch downloads url and returns the status and the sha256 digest of the body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, "sha256:" + hex.EncodeToString(h.Sum(nil))
}
