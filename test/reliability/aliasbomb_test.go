package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
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
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// aliasBomb is a plain manifest whose nine levels of anchors expand to
// 9^9 (387 million) strings: a few hundred bytes that a naive decoder
// turns into gigabytes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n")
	b.WriteString(`  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for level := 'b'; level <= 'i'; level++ {
		prev := "*" + string(level-1)
		fmt.Fprintf(&b, "  %c: &%c [%s]\n", level, level, strings.TrimSuffix(strings.Repeat(prev+",", 9), ","))
	}
	return b.String()
}

// bombBudget is the most the controller's peak resident memory may grow
// while it refuses the bomb.
const bombBudget = 256 << 20

// TestYAMLAliasBomb: a plain (not SOPS) manifest of the repository is a
// YAML alias bomb. The build fails quickly with a message naming the file,
// the controller's memory stays bounded, it keeps answering /healthz, and
// nothing of the path is applied — not even the harmless ConfigMap next to
// the bomb.
func TestYAMLAliasBomb(t *testing.T) {
	r := results.start(t, row{
		Area: areaBadInput, Case: "YAML alias bomb in a plain manifest of the repository, on the live controller",
		Expected: "BuildFailed quickly naming the file; peak memory bounded; /healthz still 200; nothing applied",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"good/cm.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\ndata: {k: v}\n",
		"bomb/harmless.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: harmless}\ndata: {k: v}\n",
		"bomb/bomb.yaml":     aliasBomb(),
	}, "a bomb")
	rev := "main@sha1:" + repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, kube, ns, srv, repo)
	kustomization(t, kube, ns, "good", "./good")
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig()})
	waitApplied(t, kube, ns, "good", rev, time.Minute)
	peakBefore := peakRSS(t, ctrl)

	began := time.Now()
	kustomization(t, kube, ns, "bomb", "./bomb")
	k := &kustomizev1.Kustomization{}
	var cond *metav1.Condition
	testcluster.Eventually(t, time.Minute, "the bomb refused", func() (bool, error) {
		ctrl.running(t)
		if err := kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "bomb"}, k); err != nil {
			return false, err
		}
		cond = reconcile.Get(k, meta.ReadyCondition)
		return cond != nil && cond.Status == metav1.ConditionFalse && k.Status.LastAttemptedRevision == rev &&
			cond.Reason != meta.ProgressingReason, nil
	})
	took := time.Since(began)
	t.Logf("Ready=False %s: %s", cond.Reason, cond.Message)
	if cond.Reason != meta.BuildFailedReason || !strings.Contains(cond.Message, "bomb.yaml") {
		t.Errorf("Ready=False %s %q, want %s naming bomb.yaml", cond.Reason, cond.Message, meta.BuildFailedReason)
	}
	if took > 20*time.Second {
		t.Errorf("the bomb took %s to refuse", took)
	}
	peakAfter := peakRSS(t, ctrl)
	if grew := peakAfter - peakBefore; grew > bombBudget {
		t.Errorf("peak memory grew by %d MiB refusing the bomb, more than %d MiB", grew>>20, bombBudget>>20)
	}
	resp, err := http.Get("http://" + ctrl.health + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz answers %d after the bomb", resp.StatusCode)
	}
	ctrl.running(t)
	for _, name := range []string{"harmless", "bomb"} {
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s was applied from the failed build (%v)", name, err)
		}
	}
	if k.Status.Inventory != nil && len(k.Status.Inventory.Entries) > 0 {
		t.Errorf("the failed Kustomization has an inventory: %v", k.Status.Inventory.Entries)
	}
	if uidOf(t, ns, "good") == "" || strings.HasPrefix(uidOf(t, ns, "good"), "gone") {
		r.Lost = 1
		t.Errorf("the other Kustomization's ConfigMap is gone")
	}
	msg := cond.Message
	if i := strings.Index(msg, "bomb.yaml"); i > 0 {
		msg = "…" + msg[i:]
	}
	r.Observed = fmt.Sprintf("Ready=False %s in %s: %q; peak RSS %d MiB before, %d MiB after; /healthz 200; nothing applied",
		cond.Reason, took.Round(time.Millisecond), msg, peakBefore>>20, peakAfter>>20)
}

// peakRSS is the controller's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, c *controller) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", c.cmd.Process.Pid)
	return 0
}
