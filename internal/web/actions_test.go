package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/auth"
)

const (
	editorName = "system:serviceaccount:apps:editor"
	viewerName = "system:serviceaccount:apps:viewer"
	brokenPage = "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken"
)

// twoUsers accepts an editor's and a viewer's token, as a TokenReview would.
type twoUsers struct{}

func (twoUsers) Create(_ context.Context, tr *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	out := tr.DeepCopy()
	if name, ok := map[string]string{"editor-token": editorName, "viewer-token": viewerName}[tr.Spec.Token]; ok {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: name}}
	}
	return out, nil
}

// patch is one request the fake actor received.
type patch struct {
	User, Kind string
	// Mode is how the session authenticates its actions.
	Mode auth.Mode
	Key  types.NamespacedName
	Body string
}

// fakeActor stands in for the API server: the editor may patch in apps,
// and fail, when set, is the API server's answer to every patch.
type fakeActor struct {
	mu      sync.Mutex
	patches []patch
	fail    error
}

func (f *fakeActor) Patch(_ context.Context, sess auth.Session, k kinds.Kind, key types.NamespacedName, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.patches = append(f.patches, patch{User: sess.User.Name, Mode: sess.Mode, Kind: k.Kind, Key: key, Body: string(body)})
	return nil
}

func (f *fakeActor) MayPatch(_ context.Context, sess auth.Session, _ kinds.Kind, key types.NamespacedName) (bool, error) {
	return sess.User.Name == editorName && key.Namespace == "apps", nil
}

func (f *fakeActor) sent() []patch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]patch(nil), f.patches...)
}

// clock is a test clock that a test moves on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// actionServer is the token-login UI over the fixtures with a fake actor.
func actionServer(t *testing.T) (http.Handler, *MemoryStore, *fakeActor, *clock) {
	t.Helper()
	opts := testOptions()
	store := NewMemoryStore(fixtures()...)
	c := &clock{t: now}
	opts.Store, opts.Now, opts.Anonymous = store, c.now, false
	opts.Login = &auth.Authenticator{Reviews: twoUsers{}, Now: c.now}
	actor := &fakeActor{}
	opts.Actor = actor
	return New(opts), store, actor, c
}

// loginAs logs in with token and returns the cookies and the CSRF token.
func loginAs(t *testing.T, h http.Handler, token string) ([]*http.Cookie, string) {
	t.Helper()
	rec := do(h, http.MethodPost, "/login", url.Values{"token": {token}}, nil, sameOriginHeader)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login with %s: %d\n%s", token, rec.Code, rec.Body)
	}
	cookies := []*http.Cookie{sessionCookie(t, rec)}
	page := do(h, http.MethodGet, "/", nil, cookies, nil)
	csrf := between(page.Body.String(), `<meta name="csrf-token" content="`, `"`)
	if csrf == "" {
		t.Fatalf("no CSRF token on the page:\n%s", page.Body)
	}
	return cookies, csrf
}

func TestActionButtonsFollowPatchRights(t *testing.T) {
	h, _, _, _ := actionServer(t)
	editor, csrf := loginAs(t, h, "editor-token")
	body := do(h, http.MethodGet, brokenPage, nil, editor, nil).Body.String()
	for _, a := range []string{"reconcile", "reconcile-with-source", "suspend"} {
		form := `<form method="post" action="` + brokenPage + `/` + a + `" class="action"><input type="hidden" name="csrf_token" value="` + csrf + `">`
		if !strings.Contains(body, form) {
			t.Errorf("the editor's page lacks the %s form %s", a, form)
		}
	}
	if strings.Contains(body, "/resume") {
		t.Error("a Kustomization that is not suspended offers resume")
	}

	viewer, _ := loginAs(t, h, "viewer-token")
	body = do(h, http.MethodGet, brokenPage, nil, viewer, nil).Body.String()
	if strings.Contains(body, `method="post" action="`+brokenPage) || !strings.Contains(body, "You may not patch this object") {
		t.Errorf("the viewer sees action forms, or no word why not:\n%s", between(body, `id="state"`, "</section>"))
	}

	// A suspended object offers "Resume and reconcile" and says why.
	body = do(h, http.MethodGet, "/o/source.toolkit.fluxcd.io/GitRepository/flux-system/flux-system", nil, editor, nil).Body.String()
	if strings.Contains(body, `class="action"`) {
		t.Errorf("the editor may patch only in apps, yet sees forms in flux-system")
	}
}

func TestAnonymousSeesNoActions(t *testing.T) {
	opts := testOptions()
	opts.Actor = &fakeActor{}
	h := New(opts)
	body := do(h, http.MethodGet, brokenPage, nil, nil, nil).Body.String()
	if strings.Contains(body, `action="`+brokenPage+`/`) || !strings.Contains(body, "Log in to act on this object") {
		t.Errorf("an anonymous visitor sees action forms, or no word why not:\n%s", between(body, `id="state"`, "</section>"))
	}
	rec := do(h, http.MethodPost, brokenPage+"/reconcile", url.Values{}, nil, sameOriginHeader)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "log in to act") {
		t.Errorf("anonymous POST: %d\n%s", rec.Code, rec.Body)
	}
	if got := opts.Actor.(*fakeActor).sent(); len(got) != 0 {
		t.Errorf("an anonymous POST sent %v", got)
	}
}

func TestReconcileActionIsFollowedUntilHandled(t *testing.T) {
	h, store, actor, c := actionServer(t)
	cookies, csrf := loginAs(t, h, "editor-token")
	rec := do(h, http.MethodPost, brokenPage+"/reconcile", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	token := kinds.RequestToken(now)
	wantTo := brokenPage + "?acted=reconcile&request=" + url.QueryEscape(token)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != wantTo {
		t.Fatalf("POST reconcile: %d to %q, want 303 to %q\n%s", rec.Code, rec.Header().Get("Location"), wantTo, rec.Body)
	}
	got := actor.sent()
	want := patch{User: editorName, Mode: auth.ModeToken, Kind: "Kustomization", Key: types.NamespacedName{Namespace: "apps", Name: "broken"},
		Body: `{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"` + token + `"}}}`}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("patches %+v, want %+v", got, want)
	}

	state := func() string {
		return between(do(h, http.MethodGet, wantTo, nil, cookies, nil).Body.String(), `id="state"`, "</section>")
	}
	if s := state(); !strings.Contains(s, "Requested; waiting for the controller to handle it.") {
		t.Errorf("before the controller handles it:\n%s", s)
	}
	// The controller handles it, and the reconciliation fails.
	obj := broken("still broken <b>")
	obj.Status.LastHandledReconcileAt = token
	store.Add(obj)
	if s := state(); !strings.Contains(s, "Handled, and it failed: still broken &lt;b&gt;") {
		t.Errorf("after a failed reconciliation:\n%s", s)
	}
	obj.Status.Conditions[0].Status, obj.Status.Conditions[0].Message = metav1.ConditionTrue, "Applied revision: main@sha1:1"
	store.Add(obj)
	if s := state(); !strings.Contains(s, "Handled and Ready: Applied revision: main@sha1:1") {
		t.Errorf("after a good reconciliation:\n%s", s)
	}

	// A request nobody handles says so once the timeout has passed.
	obj.Status.LastHandledReconcileAt = "2026-12-01T00:00:00Z"
	store.Add(obj)
	c.add(DefaultActionTimeout + time.Second)
	if s := state(); !strings.Contains(s, "not handled after 2m0s: is the controller running? Run `flux check`.") {
		t.Errorf("after the timeout:\n%s", s)
	}
}

func TestReconcileWithSourceRequestsTheSourceFirst(t *testing.T) {
	h, _, actor, _ := actionServer(t)
	cookies, csrf := loginAs(t, h, "editor-token")
	rec := do(h, http.MethodPost, brokenPage+"/reconcile-with-source", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST: %d\n%s", rec.Code, rec.Body)
	}
	got := actor.sent()
	if len(got) != 2 || got[0].Kind != "GitRepository" || got[0].Key.String() != "flux-system/flux-system" ||
		got[1].Kind != "Kustomization" || got[1].Key.String() != "apps/broken" {
		t.Errorf("patches %+v, want the GitRepository's first, then the Kustomization's", got)
	}
}

func TestReconcileOnASuspendedObjectIsExplained(t *testing.T) {
	h, store, actor, _ := actionServer(t)
	obj := broken("x")
	obj.Spec.Suspend = true
	store.Add(obj)
	cookies, csrf := loginAs(t, h, "editor-token")
	rec := do(h, http.MethodPost, brokenPage+"/reconcile", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "is suspended: a reconcile request would be ignored") {
		t.Errorf("reconcile of a suspended object: %d\n%s", rec.Code, rec.Body)
	}
	if got := actor.sent(); len(got) != 0 {
		t.Errorf("a refused action sent %v", got)
	}
	body := do(h, http.MethodGet, brokenPage, nil, cookies, nil).Body.String()
	if !strings.Contains(body, `action="`+brokenPage+`/resume"`) || !strings.Contains(body, "Resume and reconcile") ||
		strings.Contains(body, `action="`+brokenPage+`/reconcile"`) {
		t.Errorf("the suspended object's page does not offer Resume and reconcile alone:\n%s", between(body, `id="state"`, "</section>"))
	}
	rec = do(h, http.MethodPost, brokenPage+"/resume", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	got := actor.sent()
	if rec.Code != http.StatusSeeOther || len(got) != 1 || !strings.Contains(got[0].Body, `"spec":{"suspend":null}`) ||
		!strings.Contains(got[0].Body, meta.ReconcileRequestAnnotation) {
		t.Errorf("resume: %d, patches %+v", rec.Code, got)
	}
}

func TestSuspendAction(t *testing.T) {
	h, store, actor, _ := actionServer(t)
	cookies, csrf := loginAs(t, h, "editor-token")
	rec := do(h, http.MethodPost, brokenPage+"/suspend", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != brokenPage+"?acted=suspend" {
		t.Fatalf("suspend: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := actor.sent(); len(got) != 1 || got[0].Body != `{"spec":{"suspend":true}}` {
		t.Fatalf("patches %+v", got)
	}
	obj := broken("x")
	obj.Spec.Suspend = true
	store.Add(obj)
	s := between(do(h, http.MethodGet, brokenPage+"?acted=suspend", nil, cookies, nil).Body.String(), `id="state"`, "</section>")
	if !strings.Contains(s, "Suspended: the controller will not reconcile it until it is resumed.") || !strings.Contains(s, "Resume and reconcile") {
		t.Errorf("after suspend:\n%s", s)
	}
}

func TestActionBadInput(t *testing.T) {
	h, _, actor, _ := actionServer(t)
	cookies, csrf := loginAs(t, h, "editor-token")
	form := url.Values{auth.CSRFField: {csrf}}
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
		code   int
		says   string
	}{
		{"no CSRF token", brokenPage + "/reconcile", url.Values{}, sameOriginHeader, http.StatusForbidden, "missing CSRF token"},
		{"wrong CSRF token", brokenPage + "/reconcile", url.Values{auth.CSRFField: {"forged"}}, sameOriginHeader, http.StatusForbidden, "CSRF"},
		{"foreign origin", brokenPage + "/reconcile", form, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden, "foreign origin"},
		{"unknown object", "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/missing/reconcile", form, sameOriginHeader, http.StatusNotFound, "not found or not visible to you"},
		{"unknown kind", "/o/example.com/Widget/apps/broken/reconcile", form, sameOriginHeader, http.StatusNotFound, "not found or not visible to you"},
		{"unknown action", brokenPage + "/delete", form, sameOriginHeader, http.StatusConflict, "does not offer"},
		{"action of another kind", brokenPage + "/force", form, sameOriginHeader, http.StatusConflict, "does not offer"},
	} {
		rec := do(h, http.MethodPost, tc.path, tc.form, cookies, tc.header)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, rec.Code, tc.code, tc.says, rec.Body)
		}
	}
	if rec := do(h, http.MethodGet, brokenPage+"/reconcile", nil, cookies, nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET of an action: %d, want 404 (GET never changes anything)", rec.Code)
	}
	if got := actor.sent(); len(got) != 0 {
		t.Errorf("refused requests sent %+v", got)
	}
}

func TestActionRefusedByTheAPIServer(t *testing.T) {
	h, _, actor, _ := actionServer(t)
	cookies, csrf := loginAs(t, h, "editor-token")
	actor.fail = apierrors.NewForbidden(schema.GroupResource{Group: "kustomize.toolkit.fluxcd.io", Resource: "kustomizations"}, "broken",
		errorString(`User "system:serviceaccount:apps:editor" cannot patch resource "kustomizations" in the namespace "apps"`))
	rec := do(h, http.MethodPost, brokenPage+"/reconcile", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "cannot patch resource &#34;kustomizations&#34; in the namespace &#34;apps&#34;") {
		t.Errorf("refused patch: %d\n%s", rec.Code, rec.Body)
	}
	// A token the API server no longer accepts ends the session.
	actor.fail = apierrors.NewUnauthorized("token expired")
	rec = do(h, http.MethodPost, brokenPage+"/reconcile", url.Values{auth.CSRFField: {csrf}}, cookies, sameOriginHeader)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Errorf("expired token: %d to %q, want 303 to /login", rec.Code, rec.Header().Get("Location"))
	}
	if rec := do(h, http.MethodGet, "/", nil, cookies, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("the session outlived its token: %d", rec.Code)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestStreamSaysWhenARequestTimesOut: nothing changes in the object when
// no controller handles a request, so the stream renders the header
// again at the timeout on its own.
func TestStreamSaysWhenARequestTimesOut(t *testing.T) {
	c := &clock{t: now}
	_, srv, _ := liveServer(t, func(o *Options) {
		o.Now, o.ActionTimeout = c.now, 200*time.Millisecond
		o.Actor = &fakeActor{}
	})
	path := brokenPage + "?acted=reconcile&request=" + url.QueryEscape(kinds.RequestToken(now)) + "&rendered="
	ch := openStream(t, srv, "/events"+path)
	c.add(time.Minute)
	ev := next(t, ch, func(e sseEvent) bool { return e.Name == "state" && strings.Contains(e.Data, "not handled") })
	if ev == nil || !strings.Contains(ev.Data, "not handled after 200ms") {
		t.Fatalf("state after the timeout: %+v", ev)
	}
}
