package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"

	"github.com/driftless/driftless/internal/web/auth"
)

// fakeRBAC answers SubjectAccessReviews as an API server would with one
// Role: the editor (fakeReviews' user) and the anonymous visitors' group
// may get and list in namespace apps, and nothing in flux-system.
type fakeRBAC struct {
	mu    sync.Mutex
	asked []string // the users asked about
}

func (f *fakeRBAC) Create(_ context.Context, r *authorizationv1.SubjectAccessReview, _ metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	f.mu.Lock()
	f.asked = append(f.asked, r.Spec.User)
	f.mu.Unlock()
	a := r.Spec.ResourceAttributes
	who := r.Spec.User == "system:serviceaccount:apps:editor" || slices.Contains(r.Spec.Groups, auth.AnonymousGroup)
	out := r.DeepCopy()
	out.Status.Allowed = who && a.Namespace == "apps" && (a.Verb == "get" || a.Verb == "list")
	return out, nil
}

func (f *fakeRBAC) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// hiddenMarks are strings only the flux-system namespace's objects show:
// the Kustomization flux-system/apps' revision and message, the
// GitRepository's URL, the Provider and Alert.
var hiddenMarks = []string{"4f2c9e1d", "fleet.git", "on-call", "hooks.example.com", "slack",
	"Kustomization/flux-system/apps", "Applied revision"}

// visibleMarks are in apps, which the viewer may read.
var visibleMarks = []string{"broken", "untrusted", "podinfo"}

func checkFiltered(t *testing.T, what, body string) {
	t.Helper()
	for _, m := range hiddenMarks {
		if strings.Contains(body, m) {
			t.Errorf("%s shows %q, from a namespace the viewer may not read", what, m)
		}
	}
}

func rbacOptions(rbac *fakeRBAC) Options {
	opts := testOptions()
	opts.Access = auth.NewAccess(rbac, auth.AccessOptions{Now: opts.Now})
	return opts
}

// filteredPaths are every page that reads objects.
var filteredPaths = []string{"/", "/?namespace=flux-system", "/?q=apps", "/graph", "/graph?namespace=flux-system", "/graph.json",
	"/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken", "/o/helm.toolkit.fluxcd.io/HelmRelease/apps/podinfo"}

func TestAccessFiltersEveryPageForTheEditor(t *testing.T) {
	rbac := &fakeRBAC{}
	opts := rbacOptions(rbac)
	opts.Anonymous = false
	opts.Login = &auth.Authenticator{Reviews: fakeReviews{good: "good-token"}, Now: opts.Now}
	h := New(opts)
	login := do(h, http.MethodPost, "/login", url.Values{"token": {"good-token"}}, nil, sameOriginHeader)
	cookies := []*http.Cookie{sessionCookie(t, login)}

	for _, p := range filteredPaths {
		rec := do(h, http.MethodGet, p, nil, cookies, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", p, rec.Code, rec.Body)
			continue
		}
		checkFiltered(t, "GET "+p, rec.Body.String())
	}
	over := do(h, http.MethodGet, "/", nil, cookies, nil).Body.String()
	for _, m := range visibleMarks {
		if !strings.Contains(over, m) {
			t.Errorf("the overview lost %q, in the namespace the editor may read", m)
		}
	}
	graph := do(h, http.MethodGet, "/graph.json", nil, cookies, nil).Body.String()
	if !strings.Contains(graph, "broken") {
		t.Errorf("graph.json lost the visible objects:\n%s", graph)
	}

	// A hidden object's page is the missing object's page, byte for byte.
	missing := do(h, http.MethodGet, "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/missing", nil, cookies, nil)
	for _, p := range []string{"/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps",
		"/o/source.toolkit.fluxcd.io/GitRepository/flux-system/flux-system", "/graph?around=kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps"} {
		rec := do(h, http.MethodGet, p, nil, cookies, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s of a hidden object: %d, want 404", p, rec.Code)
		}
		// The graph's scope form echoes ?around=; besides that, the
		// answer is the one for an object that does not exist.
		want := missing.Body.String()
		if strings.HasPrefix(p, "/graph") {
			want = strings.ReplaceAll(do(h, http.MethodGet, strings.Replace(p, "/apps", "/missing", 1), nil, cookies, nil).Body.String(),
				"flux-system/missing", "flux-system/apps")
		} else {
			checkFiltered(t, "GET "+p, rec.Body.String())
		}
		if rec.Body.String() != want {
			t.Errorf("GET %s differs from a missing object's answer:\n%s", p, rec.Body)
		}
	}
	if missing.Code != http.StatusNotFound || !strings.Contains(missing.Body.String(), "not found or not visible to you") {
		t.Errorf("missing object: %d\n%s", missing.Code, missing.Body)
	}
	if !slices.Contains(rbac.users(), "system:serviceaccount:apps:editor") {
		t.Errorf("no review asked about the editor: %v", rbac.users())
	}
}

func TestAccessFiltersTheAnonymousVisitor(t *testing.T) {
	rbac := &fakeRBAC{}
	h := New(rbacOptions(rbac)) // Anonymous: true
	for _, p := range filteredPaths {
		rec := do(h, http.MethodGet, p, nil, nil, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, rec.Code)
			continue
		}
		checkFiltered(t, "anonymous GET "+p, rec.Body.String())
	}
	if rec := do(h, http.MethodGet, "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps", nil, nil, nil); rec.Code != http.StatusNotFound {
		t.Errorf("anonymous GET of a hidden object: %d, want 404", rec.Code)
	}
	users := rbac.users()
	if len(users) == 0 {
		t.Fatal("no review asked")
	}
	for _, u := range users {
		if u != auth.AnonymousName {
			t.Errorf("a review asked about %q, want only %s", u, auth.AnonymousName)
		}
	}
}

// Without Access (flux ui: the API server filters) nothing is hidden.
func TestNoAccessFiltersNothing(t *testing.T) {
	body := get(t, newTestServer(), "/").Body.String()
	if !strings.Contains(body, "4f2c9e1d") {
		t.Error("without Access the overview hides flux-system")
	}
}

// quiet fails if the stream sends an event (comments aside) within d.
func quiet(t *testing.T, ch <-chan sseEvent, d time.Duration, what string) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				t.Fatalf("%s: the stream ended", what)
			}
			if ev.Name != "" {
				t.Fatalf("%s sent event %q:\n%s", what, ev.Name, ev.Data)
			}
		case <-timeout:
			return
		}
	}
}

func TestAccessFiltersStreams(t *testing.T) {
	rbac := &fakeRBAC{}
	store, srv, _ := liveServer(t, func(o *Options) { o.Access = auth.NewAccess(rbac, auth.AccessOptions{Now: o.Now}) })
	overview := openStream(t, srv, "/events/")
	hiddenPage := openStream(t, srv, "/events/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps")

	hidden := kustomization("flux-system", "apps")
	hidden.Status.Conditions = []metav1.Condition{cond("Ready", metav1.ConditionFalse, "BuildFailed", "hidden failure", time.Minute)}
	store.Add(hidden)
	store.Add(kustomization("flux-system", "new-hidden"))
	quiet(t, overview, time.Second, "a change in the hidden namespace")
	quiet(t, hiddenPage, 100*time.Millisecond, "the hidden object's stream")
	store.Delete(hidden)
	quiet(t, overview, time.Second, "a deletion in the hidden namespace")
	quiet(t, hiddenPage, 100*time.Millisecond, "the hidden object's stream, on its deletion")

	store.Add(broken("visible change"))
	id := rowID(t, broken(""))
	ev := next(t, overview, func(e sseEvent) bool { return e.Name != "" })
	if ev == nil {
		t.Fatal("no event for a change in the visible namespace")
	}
	for ev != nil && ev.Name != id {
		checkFiltered(t, "event "+ev.Name, ev.Data)
		if strings.Contains(ev.Data, "new-hidden") || strings.Contains(ev.Data, "hidden failure") {
			t.Errorf("event %s names a hidden object:\n%s", ev.Name, ev.Data)
		}
		ev = next(t, overview, func(e sseEvent) bool { return e.Name != "" })
	}
	if ev == nil || !strings.Contains(ev.Data, "visible change") {
		t.Fatalf("no row event for the visible change: %+v", ev)
	}
}

// failingRBAC cannot be asked: the API server is away.
type failingRBAC struct{}

func (failingRBAC) Create(context.Context, *authorizationv1.SubjectAccessReview, metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	return nil, errors.New("connection refused")
}

// A review that fails shows nothing, and its error, which names the
// namespace asked about, stays out of the page.
func TestAccessCheckFailureShowsNothing(t *testing.T) {
	opts := testOptions()
	opts.Access = auth.NewAccess(failingRBAC{}, auth.AccessOptions{})
	h := New(opts)
	body := get(t, h, "/").Body.String()
	checkFiltered(t, "overview while reviews fail", body)
	for _, m := range append(visibleMarks, `"flux-system"`, `"apps"`) {
		if strings.Contains(body, m) {
			t.Errorf("overview while reviews fail shows %q", m)
		}
	}
	if !strings.Contains(body, "could not check what you may see") {
		t.Errorf("the overview does not say why it is empty:\n%s", body)
	}
	if rec := get(t, h, "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken"); rec.Code != http.StatusNotFound {
		t.Errorf("object page while reviews fail: %d, want 404", rec.Code)
	}
}

// namedRBAC lets its user list in apps and get one object by name in
// flux-system (a Role with resourceNames), and counts the questions.
type namedRBAC struct {
	mu    sync.Mutex
	asked int
}

func (n *namedRBAC) Allowed(_ context.Context, u auth.User, verb, _, _, namespace, name string) (bool, error) {
	n.mu.Lock()
	n.asked++
	n.mu.Unlock()
	switch {
	case verb == "list":
		return namespace == "apps", nil
	case verb == "get":
		return namespace == "apps" || (namespace == "flux-system" && name == "apps"), nil
	}
	return false, nil
}

// TestAccessListAsksPerNamespace: a list is filtered with one list question
// per namespace, and a get question only for the objects of a namespace
// the viewer may not list: one they may get by name is shown, its
// neighbours are not.
func TestAccessListAsksPerNamespace(t *testing.T) {
	var objs []kinds.Object
	for i := range 50 {
		objs = append(objs, &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: fmt.Sprintf("app-%02d", i)}})
	}
	objs = append(objs,
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "apps"}},
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "infrastructure"}})
	rbac := &namedRBAC{}
	s := &accessStore{Store: NewMemoryStore(objs...), access: rbac, log: slog.New(slog.DiscardHandler)}
	ctx := context.WithValue(context.Background(), viewerKey{}, Viewer{User: auth.User{Name: "jane"}})
	got, err := s.List(ctx, kinds.Kustomization(), "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range got {
		if o.GetNamespace() == "flux-system" {
			names = append(names, o.GetName())
		}
	}
	if len(got) != 51 || !slices.Equal(names, []string{"apps"}) {
		t.Errorf("listed %d objects, of flux-system %v; want the 50 of apps and flux-system/apps", len(got), names)
	}
	// Two list questions (apps, flux-system) and two gets (flux-system's).
	if rbac.asked != 4 {
		t.Errorf("%d access questions for 52 objects in 2 namespaces, want 4", rbac.asked)
	}
	if got, _ := s.List(context.Background(), kinds.Kustomization(), ""); len(got) != 0 {
		t.Errorf("a request without a viewer listed %d objects", len(got))
	}
}
