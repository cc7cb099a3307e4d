package notification_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// forgeStatus is one commit status a forge keeps.
type forgeStatus struct {
	ID                  int64
	State, Key, Details string
}

// forge is a Git host that keeps the commit statuses posted to it and
// lists them back, in GitHub's and Gitea's shape (state, context) or
// GitLab's (status, name), per repository path and SHA.
type forge struct {
	url string
	mu  sync.Mutex
	// statuses by "<owner>/<sha>"
	statuses map[string][]forgeStatus
	posts    int
}

var (
	// POST /api/v3/repos/<owner>/repo/statuses/<sha> (GitHub),
	// /api/v1/repos/<owner>/repo/statuses/<sha> (Gitea),
	// /api/v4/projects/<owner>/repo/statuses/<sha> (GitLab).
	postStatusRE = regexp.MustCompile(`^/api/v[134]/(?:repos|projects)/([^/]+)/repo/statuses/([0-9a-f]{40})$`)
	// GET …/commits/<sha>/statuses (GitLab: …/repository/commits/<sha>/statuses).
	listStatusRE = regexp.MustCompile(`^/api/v[134]/(?:repos|projects)/([^/]+)/repo/(?:repository/)?commits/([0-9a-f]{40})/statuses$`)
)

func newForge(t *testing.T) *forge {
	f := &forge{statuses: map[string][]forgeStatus{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gitlab := strings.HasPrefix(r.URL.Path, "/api/v4/")
		f.mu.Lock()
		defer f.mu.Unlock()
		switch m := postStatusRE.FindStringSubmatch(r.URL.Path); {
		case r.Method == http.MethodPost && m != nil:
			var body struct{ State, Context, Name, Description string }
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			key := body.Context
			if gitlab {
				key = body.Name
			}
			f.posts++
			k := m[1] + "/" + m[2]
			f.statuses[k] = append(f.statuses[k], forgeStatus{ID: int64(f.posts), State: body.State, Key: key, Details: body.Description})
			_, _ = w.Write([]byte(`{"id":1}`))
			return
		}
		m := listStatusRE.FindStringSubmatch(r.URL.Path)
		if r.Method != http.MethodGet || m == nil {
			http.Error(w, "not a status call: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		var out []map[string]any
		for _, s := range f.statuses[m[1]+"/"+m[2]] {
			if gitlab {
				out = append(out, map[string]any{"id": s.ID, "status": s.State, "name": s.Key, "description": s.Details})
			} else {
				out = append(out, map[string]any{"id": s.ID, "state": s.State, "context": s.Key, "description": s.Details})
			}
		}
		if out == nil {
			out = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// status returns the states posted for owner's repository at sha under key.
func (f *forge) states(owner, sha, key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.statuses[owner+"/"+sha] {
		if s.Key == key {
			out = append(out, s.State)
		}
	}
	return out
}

// TestCommitStatusFromAKustomization follows a Kustomization applying a
// Git-server repository: GitHub, GitLab and Gitea get success for exactly
// the head SHA under kustomization/<name>/<provider UID prefix>, a broken
// commit gets failure on its own SHA, and commitStatusExpr sets the key.
func TestCommitStatusFromAKustomization(t *testing.T) {
	f := newForge(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	if err := kube.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token", Namespace: ns},
		StringData: map[string]string{"token": "forge-t0ken"}}); err != nil {
		t.Fatal(err)
	}
	providers := map[string]*v1beta3.Provider{}
	for _, pc := range []struct{ name, typ, owner, expr string }{
		{"github", "github", "gh-org", ""},
		{"gitlab", "gitlab", "gl-org", ""},
		{"gitea", "gitea", "gt-org", ""},
		{"github-expr", "github", "expr-org", `"deploy/" + event.involvedObject.name + "/" + alert.metadata.name`},
	} {
		p := &v1beta3.Provider{
			ObjectMeta: metav1.ObjectMeta{Name: pc.name, Namespace: ns},
			Spec: v1beta3.ProviderSpec{Type: pc.typ, Address: f.url + "/" + pc.owner + "/repo",
				SecretRef: &meta.LocalObjectReference{Name: "token"}, CommitStatusExpr: pc.expr},
		}
		a := &v1beta3.Alert{
			ObjectMeta: metav1.ObjectMeta{Name: "to-" + pc.name, Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: pc.name},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "app"}}},
		}
		for _, o := range []client.Object{p, a} {
			if err := kube.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		providers[pc.owner] = p
	}
	key := func(owner string) string {
		return "kustomization/app/" + strings.SplitN(string(providers[owner].UID), "-", 2)[0]
	}

	repo := appRepo(t)
	head := repo.Head("main")
	src := gitRepository(t, ns, "repo", repo, time.Hour)
	// The Alerts are in the dispatcher's cache well before the first
	// success event: it waits for the source to be Ready first.
	kustomization(t, ns, "app", "repo", "./deploy")

	waitStates := func(owner, sha, key string, want ...string) {
		t.Helper()
		err := testcluster.Poll(60*time.Second, func() (bool, error) {
			got := f.states(owner, sha, key)
			return len(got) >= len(want), nil
		})
		got := f.states(owner, sha, key)
		if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s at %.7s under %q: statuses %v; want %v", owner, sha, key, got, want)
		}
	}
	for _, owner := range []string{"gh-org", "gl-org", "gt-org"} {
		waitStates(owner, head, key(owner), "success")
	}
	waitStates("expr-org", head, "deploy/app/to-github-expr", "success")
	if got := f.states("expr-org", head, key("expr-org")); len(got) != 0 {
		t.Errorf("the Provider with commitStatusExpr also posted under the default key: %v", got)
	}

	// A broken commit: failure on its own SHA, and the good one untouched.
	broken := repo.CommitFiles("main", map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [not, a, name]}\n"}, "broken")
	requestNow(t, src)
	for _, owner := range []string{"gh-org", "gl-org", "gt-org"} {
		state := "failure"
		if owner == "gl-org" {
			state = "failed"
		}
		waitStates(owner, broken, key(owner), state)
		if got := f.states(owner, head, key(owner)); len(got) != 1 {
			t.Errorf("%s: the good commit's statuses changed to %v", owner, got)
		}
	}
}

// requestNow asks obj to reconcile now.
func requestNow(t *testing.T, obj client.Object) {
	t.Helper()
	patch := []byte(`{"metadata":{"annotations":{"` + meta.ReconcileRequestAnnotation + `":"` + time.Now().Format(time.RFC3339Nano) + `"}}}`)
	if err := kube.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}
