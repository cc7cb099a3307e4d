package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// What a garbling proxy does to the Git traffic it forwards.
const (
	passThrough   = "pass"
	garbageRefs   = "garbage-refs"   // 200 with random bytes for info/refs
	truncatedPack = "truncated-pack" // the upload-pack response cut in half
)

// garbler sits between the controller and a real Git server and, when told
// to, answers garbage. It counts the requests it sees in each mode.
type garbler struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	mode  string
	refs  int // info/refs requests since the last setMode
	packs int // upload-pack requests since the last setMode
}

func newGarbler(t *testing.T, upstream string) (*garbler, *httptest.Server) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	g := &garbler{mode: passThrough, proxy: httputil.NewSingleHostReverseProxy(u)}
	g.proxy.ModifyResponse = func(resp *http.Response) error {
		if g.currentMode() != truncatedPack || !strings.HasSuffix(resp.Request.URL.Path, "/git-upload-pack") {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		cut := body[:len(body)/2]
		resp.Body = io.NopCloser(bytes.NewReader(cut))
		resp.ContentLength = int64(len(cut))
		resp.Header.Set("Content-Length", fmt.Sprint(len(cut)))
		resp.Header.Del("Transfer-Encoding")
		return nil
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *garbler) setMode(mode string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mode, g.refs, g.packs = mode, 0, 0
}

func (g *garbler) currentMode() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mode
}

// counts returns the info/refs and upload-pack requests since the last setMode.
func (g *garbler) counts() (refs, packs int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refs, g.packs
}

func (g *garbler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	mode := g.mode
	isRefs := strings.HasSuffix(r.URL.Path, "/info/refs")
	if isRefs {
		g.refs++
	} else if strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
		g.packs++
	}
	g.mu.Unlock()
	if mode == garbageRefs && isRefs {
		junk := make([]byte, 4096)
		_, _ = rand.Read(junk)
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(junk)
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// TestGitServerAnswersGarbage puts a proxy between the controller and the
// Git server that answers 200 with random bytes for info/refs, then cuts
// the pack in half. Each time the GitRepository is Ready=False with a
// clear reason, the last artifact is still served with its digest, and the
// applied objects are untouched. When the real server is back, the next
// retry — with no request — fetches the new revision.
func TestGitServerAnswersGarbage(t *testing.T) {
	r := results.start(t, row{
		Area: areaFault, Case: "Git server answers garbage: random bytes for info/refs, then a truncated pack",
		Expected: "Ready=False with a clear reason; the last artifact still served; applied objects untouched; recovery on the first retry after the server is back",
	})
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", configMaps(0, 5, "1"), "five objects")
	first := "main@sha1:" + repo.Head("main")
	real := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	g, front := newGarbler(t, real.URL())
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: front.URL + "/" + repo.Name(), Interval: metav1.Duration{Duration: time.Hour},
			Timeout: &metav1.Duration{Duration: 10 * time.Second}, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if err := kube.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	kustomization(t, kube, ns, "app", "./deploy")
	ctrl := startController(t, procOptions{kubeconfig: env.Kubeconfig()})
	before := waitSource(t, ns, "Ready at the first revision", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.Artifact != nil && o.Status.Artifact.Revision == first
	}).Status.Artifact
	waitApplied(t, kube, ns, "app", first, time.Minute)
	applied, err := owned(ctx, kube, ns, "app")
	if err != nil {
		t.Fatal(err)
	}

	second := "main@sha1:" + repo.CommitFiles("main", configMaps(0, 5, "2"), "generation 2")
	var said []string
	for _, mode := range []string{garbageRefs, truncatedPack} {
		g.setMode(mode)
		requestReconcile(t, kube, obj, mode)
		failed := waitSource(t, ns, mode+" refused", func(o *sourcev1.GitRepository) bool {
			c := reconcile.Get(o, sourcev1.FetchFailedCondition)
			// The truncated pack's failure, not the garbage one before it.
			fresh := mode != truncatedPack || c == nil || !strings.Contains(c.Message, "pkt-len")
			return o.Status.LastHandledReconcileAt == mode && c != nil && c.Status == metav1.ConditionTrue && fresh
		})
		ready := reconcile.Get(failed, meta.ReadyCondition)
		if ready == nil || ready.Status != metav1.ConditionFalse || ready.Message == "" {
			t.Errorf("%s: Ready %+v, want False with a message", mode, ready)
		} else {
			said = append(said, fmt.Sprintf("%s: Ready=False %s \"fetch branch 'main' from <url>: %s\"", mode, ready.Reason, lastPart(ready.Message)))
			t.Logf("%s: Ready=False %s: %s", mode, ready.Reason, ready.Message)
		}
		if _, packs := g.counts(); mode == truncatedPack && packs == 0 {
			t.Errorf("%s: no pack was requested, so none was truncated", mode)
		}
		if a := failed.Status.Artifact; a == nil || a.Digest != before.Digest || a.Revision != first {
			t.Errorf("%s: status artifact %+v, want the first one %s kept", mode, a, before.Digest)
		}
		if status, digest := fetch(t, before.URL); status != http.StatusOK || digest != before.Digest {
			t.Errorf("%s: the last artifact answers HTTP %d with digest %s, want 200 and %s", mode, status, digest, before.Digest)
		}
		if n, err := countGeneration(ctx, kube, ns, "1"); err != nil || n != 5 {
			t.Errorf("%s: %d objects still at generation 1, want 5 (%v)", mode, n, err)
		}
		ctrl.running(t)
	}

	// The real server is back: no request, the back-off retry alone.
	g.setMode(passThrough)
	back := time.Now()
	waitSource(t, ns, "Ready at the second revision", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.Artifact != nil && o.Status.Artifact.Revision == second
	})
	k := waitApplied(t, kube, ns, "app", second, time.Minute)
	r.Recovery = time.Since(back)
	refs, packs := g.counts()
	if packs != 1 {
		t.Errorf("%d pack requests after the server came back, want 1: recovery should take one retry", packs)
	}
	after, err := owned(ctx, kube, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	missing := lost(names(0, 5), after)
	wrong := wrongDeletions(applied, after, func(string) bool { return true })
	r.Lost, r.Wrong = len(missing), len(wrong)
	if len(missing)+len(wrong) > 0 {
		t.Errorf("lost %s; deleted or recreated %s", head(missing), head(wrong))
	}
	if n, err := countGeneration(ctx, kube, ns, "2"); err != nil || n != 5 {
		t.Errorf("%d objects at generation 2 after recovery, want 5 (%v)", n, err)
	}
	if got := k.Status.LastAppliedRevision; got != second {
		t.Errorf("applied %s, want %s", got, second)
	}
	r.Observed = fmt.Sprintf("%s; the first artifact served with its digest throughout and the 5 objects untouched; "+
		"server back: one retry (%d info/refs, %d pack request) reached Ready at the new revision with no request",
		strings.Join(said, "; "), refs, packs)
}

// lastPart is the innermost error of a message wrapped with ": ".
func lastPart(msg string) string { return msg[strings.LastIndex(msg, ": ")+2:] }
