package reliability

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestAPIServerRestartMidApply stops the control plane (kube-apiserver with
// etcd and the rest: localcluster restarts its components together) while
// driftless-controller is applying 300 objects, and starts it again on the
// same data. The controller, which kept running, converges; the inventory
// lists exactly the objects with the owner labels; objects applied before
// the stop keep their UIDs.
func TestAPIServerRestartMidApply(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "kube-apiserver stops and starts in the middle of an apply of 300 objects",
		Expected: "the reconcile fails cleanly and converges after; the inventory stays true to the cluster",
	})
	ctx := context.Background()
	dir := t.TempDir()
	cl, err := testcluster.Start(ctx, testcluster.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop() })
	c, err := newClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	// localcluster removes its kubeconfig when it stops and keeps its ports
	// and certificates: the controller keeps a copy.
	kubeconfig := copyFile(t, cl.Kubeconfig())
	ns := "restart"
	nsObj := &corev1.Namespace{}
	nsObj.Name = ns
	if err := c.Create(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", configMaps(0, 300, "1"), "300 objects")
	rev := "main@sha1:" + repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, c, ns, srv, repo)
	kustomization(t, c, ns, "app", "./deploy")
	ctrl := startController(t, procOptions{kubeconfig: kubeconfig, extra: []string{"--kube-api-qps", "25", "--kube-api-burst", "25"}})

	var atStop int
	testcluster.Eventually(t, 3*time.Minute, "the apply under way", func() (bool, error) {
		n, err := countGeneration(ctx, c, ns, "1")
		atStop = n
		return err == nil && n >= 20, err
	})
	if atStop > 250 {
		t.Fatalf("%d of 300 objects were already applied: not the middle of an apply", atStop)
	}
	applied, err := owned(ctx, c, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	stopBegan := time.Now()
	if err := cl.StopKeepData(); err != nil {
		t.Fatalf("stop the cluster: %v", err)
	}
	down := time.Since(stopBegan)
	ctrl.running(t)

	cl2, err := testcluster.Start(ctx, testcluster.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("start the cluster again: %v", err)
	}
	t.Cleanup(func() { _ = cl2.Stop() })
	back := time.Now()
	if c, err = newClient(cl2); err != nil {
		t.Fatal(err)
	}
	atRestart, err := countGeneration(ctx, c, ns, "1")
	if err != nil {
		t.Fatal(err)
	}
	if atRestart >= 300 {
		t.Fatalf("all 300 objects were applied before the API server stopped (%d when the stop began)", atStop)
	}
	k := waitApplied(t, c, ns, "app", rev, 3*time.Minute)
	r.Recovery = time.Since(back)
	ctrl.running(t)

	after, err := owned(ctx, c, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	missing := lost(names(0, 300), after)
	wrong := wrongDeletions(applied, after, func(string) bool { return true })
	orphans, ghosts := inventoryDrift(k, after)
	r.Lost, r.Wrong = len(missing), len(wrong)
	r.Observed = fmt.Sprintf("stopped with %d of 300 applied (stop took %s, %d applied when it came back); "+
		"controller kept running and reached Ready; %d objects in the cluster, %d in the inventory, %d orphans, %d ghosts",
		atStop, down.Round(100*time.Millisecond), atRestart, len(after), len(k.Status.Inventory.Entries), len(orphans), len(ghosts))
	if len(missing) > 0 {
		t.Errorf("objects lost: %s", head(missing))
	}
	if len(wrong) > 0 {
		t.Errorf("objects applied before the stop deleted or recreated: %s", head(wrong))
	}
	if len(orphans) > 0 || len(ghosts) > 0 {
		t.Errorf("inventory untrue to the cluster: orphans %s; ghosts %s", head(orphans), head(ghosts))
	}
}
