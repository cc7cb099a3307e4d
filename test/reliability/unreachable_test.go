package reliability

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
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

// tcpProxy forwards one loopback address to another until stopped, and can
// be started again on the same address: a network path that can be cut.
type tcpProxy struct {
	addr, to string
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{}
}

func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.conns = ln, map[net.Conn]struct{}{}
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.to)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
}

// stop closes the listener and every connection: the address refuses.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// TestArtifactServerUnreachable cuts the path from the Kustomization to the
// artifact server (artifact URLs name a proxy in front of it) while a new
// revision is published: the Kustomization must fail with ArtifactFailed
// and apply nothing, and apply the revision by its next retry once the
// path is back.
func TestArtifactServerUnreachable(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "Artifact server unreachable from the applier while a new revision is published",
		Expected: "no apply: Ready=False ArtifactFailed; applied objects unchanged; the new revision applied by the next retry once reachable",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"deploy/target.yaml": targetCM("1")}, "one")
	first := "main@sha1:" + repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	source(t, kube, ns, srv, repo)
	kustomization(t, kube, ns, "app", "./deploy")
	proxy := &tcpProxy{addr: freeAddr(t), to: freeAddr(t)}
	proxy.start(t)
	t.Cleanup(proxy.stop)
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig(), storageAddr: proxy.to, advAddr: proxy.addr,
		extra: []string{"--http-retry", "2"}})
	waitApplied(t, kube, ns, "app", first, time.Minute)
	uid := uidOf(t, ns, "target")
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}}
	patchSpec(t, ks, `{"retryInterval":"2s"}`)

	proxy.stop()
	cut := time.Now()
	second := "main@sha1:" + repo.CommitFiles("main", map[string]string{"deploy/target.yaml": targetCM("2")}, "two")
	requestReconcile(t, kube, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns}}, "two")
	var cond *metav1.Condition
	cur := &kustomizev1.Kustomization{}
	testcluster.Eventually(t, 2*time.Minute, "Ready=False ArtifactFailed", func() (bool, error) {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(ks), cur); err != nil {
			return false, err
		}
		cond = reconcile.Get(cur, meta.ReadyCondition)
		return cur.Status.LastAttemptedRevision == second && cond != nil && cond.Status == metav1.ConditionFalse &&
			cond.Reason == meta.ArtifactFailedReason, nil
	})
	failedIn := time.Since(cut)
	wrong := 0
	var cm corev1.ConfigMap
	switch err := kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "target"}, &cm); {
	case apierrors.IsNotFound(err):
		r.Lost = 1
		t.Errorf("the applied ConfigMap is gone while the artifact server was unreachable")
	case err != nil:
		t.Fatal(err)
	case string(cm.UID) != uid:
		wrong++
		t.Errorf("the ConfigMap was recreated (UID %s, was %s)", cm.UID, uid)
	case cm.Data["generation"] != "1":
		t.Errorf("the ConfigMap changed to %q with no artifact", cm.Data["generation"])
	}
	if cur.Status.LastAppliedRevision != first {
		t.Errorf("last applied revision %s, want %s kept", cur.Status.LastAppliedRevision, first)
	}
	ctrl.running(t)

	proxy.start(t)
	back := time.Now()
	waitApplied(t, kube, ns, "app", second, 2*time.Minute)
	r.Recovery = time.Since(back)
	if err := kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "target"}, &cm); err != nil || cm.Data["generation"] != "2" {
		t.Errorf("after recovery: %v, generation %q", err, cm.Data["generation"])
	} else if string(cm.UID) != uid {
		wrong++
	}
	r.Wrong = wrong
	r.Observed = fmt.Sprintf("Ready=False %s %.120q after %s; ConfigMap kept at generation 1 with its UID; "+
		"path back: the next retry (retryInterval 2s) applied the new revision", cond.Reason, cond.Message, failedIn.Round(100*time.Millisecond))
}
