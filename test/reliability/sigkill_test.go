package reliability

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestControllerKilledMidApply: a Kustomization goes from 250 ConfigMaps to
// 500 (240 changed, 260 new, 10 removed); driftless-controller is killed
// with SIGKILL in the middle of that apply and started again. It converges;
// every object with the owner labels is in the inventory; the 10 removed
// are pruned and nothing else is deleted or recreated — not the 240 kept,
// not an object of another Kustomization, not an object Driftless never
// applied.
func TestControllerKilledMidApply(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "driftless-controller SIGKILLed in the middle of applying 500 objects, then started again",
		Expected: "converges; every object with the owner labels in the inventory; only the 10 objects removed from Git pruned",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	files := configMaps(0, 250, "1")
	files["other/theirs.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs}\ndata: {owner: other}\n"
	repo.CommitFiles("main", files, "250 objects")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	stray := &corev1.ConfigMap{}
	stray.Name, stray.Namespace = "stray", ns
	if err := kube.Create(ctx, stray); err != nil {
		t.Fatal(err)
	}
	source(t, kube, ns, srv, repo)
	kustomization(t, kube, ns, "app", "./deploy")
	kustomization(t, kube, ns, "other", "./other")

	// The first process is throttled so that the apply of 500 objects lasts
	// long enough to be cut in the middle; the second runs with defaults.
	storage, addr := t.TempDir(), freeAddr(t)
	throttled := []string{"--kube-api-qps", "25", "--kube-api-burst", "25"}
	first := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: storage, storageAddr: addr, extra: throttled})
	waitApplied(t, kube, ns, "app", "main@sha1:"+repo.Head("main"), 3*time.Minute)
	waitApplied(t, kube, ns, "other", "main@sha1:"+repo.Head("main"), time.Minute)
	before, err := owned(ctx, kube, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 250 {
		t.Fatalf("%d objects applied at the first revision, want 250", len(before))
	}
	unrelated := map[string]string{"stray": string(stray.UID), "theirs": uidOf(t, ns, "theirs")}

	// Revision 2: cm-000..239 change, cm-240..249 go, cm-250..509 are new.
	next := configMaps(0, 240, "2")
	for f, body := range configMaps(250, 510, "2") {
		next[f] = body
	}
	repo.CommitFiles("main", next, "500 objects")
	rev2 := "main@sha1:" + repo.Head("main")
	src := &sourcev1.GitRepository{}
	src.Name, src.Namespace = "repo", ns
	requestReconcile(t, kube, src, "rev2")

	var atKill int
	testcluster.Eventually(t, 3*time.Minute, "the apply of revision 2 under way", func() (bool, error) {
		n, err := countGeneration(ctx, kube, ns, "2")
		if err != nil || n < 25 {
			return false, err
		}
		atKill = n
		return true, nil
	})
	if atKill > 450 {
		t.Fatalf("%d of 500 objects were already applied when the kill came: not the middle of an apply", atKill)
	}
	first.kill(t)
	killedAt := time.Now()
	atRestart, err := countGeneration(ctx, kube, ns, "2")
	if err != nil {
		t.Fatal(err)
	}
	r.Observed = fmt.Sprintf("killed with %d (then %d) of 500 objects applied", atKill, atRestart)

	second := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storagePath: storage, storageAddr: addr})
	k := waitApplied(t, kube, ns, "app", rev2, 3*time.Minute)
	r.Recovery = time.Since(killedAt)
	second.running(t)

	after, err := owned(ctx, kube, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := append(names(0, 240), names(250, 510)...)
	missing := lost(want, after)
	wrong := wrongDeletions(before, after, func(name string) bool { return name < cmName(240) || name >= cmName(250) })
	for name, uid := range unrelated {
		if got := uidOf(t, ns, name); got != uid {
			wrong = append(wrong, name+" (not the Kustomization's) deleted or recreated")
		}
	}
	orphans, ghosts := inventoryDrift(k, after)
	r.Lost, r.Wrong = len(missing), len(wrong)
	for _, name := range names(240, 250) {
		if _, ok := after[name]; ok {
			t.Errorf("%s was removed from Git but not pruned", name)
		}
	}
	if n, err := countGeneration(ctx, kube, ns, "2"); err != nil || n != 500 {
		t.Errorf("%d objects at revision 2, want 500 (%v)", n, err)
	}
	if len(missing) > 0 {
		t.Errorf("objects lost: %s", head(missing))
	}
	if len(wrong) > 0 {
		t.Errorf("wrong deletions: %s", head(wrong))
	}
	if len(orphans) > 0 || len(ghosts) > 0 {
		t.Errorf("inventory untrue to the cluster: orphans (labelled, not listed) %s; ghosts (listed, absent) %s", head(orphans), head(ghosts))
	}
	r.Observed += fmt.Sprintf("; restarted: Ready at revision 2, %d objects in the cluster and %d in the inventory, %d orphans, 10 pruned",
		len(after), len(k.Status.Inventory.Entries), len(orphans))
}

func uidOf(t *testing.T, ns, name string) string {
	t.Helper()
	var cm corev1.ConfigMap
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		return "gone: " + err.Error()
	}
	return string(cm.UID)
}
