package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/internal/web/auth"
)

// fakeReviews accepts one token, as the API server's TokenReview would.
type fakeReviews struct{ good string }

func (f fakeReviews) Create(_ context.Context, tr *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	out := tr.DeepCopy()
	if tr.Spec.Token == f.good {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true,
			User: authenticationv1.UserInfo{Username: "system:serviceaccount:apps:editor", Groups: []string{"system:serviceaccounts"}}}
	}
	return out, nil
}

func tokenServer() http.Handler {
	opts := testOptions()
	opts.Anonymous = false
	opts.Login = &auth.Authenticator{Reviews: fakeReviews{good: "good-token"}, Now: opts.Now}
	return New(opts)
}

func localServer(t *testing.T) (http.Handler, string) {
	t.Helper()
	opts := testOptions()
	opts.Anonymous = false
	opts.Auth = AuthLocal
	opts.Sessions = auth.NewSessions(auth.SessionOptions{Now: opts.Now})
	ot, token, err := auth.NewOneTime(opts.Sessions, auth.User{Name: "kubernetes-admin"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts.OneTime = ot
	return New(opts), token
}

// do sends a request as a browser on localhost would, with the cookies.
func do(h http.Handler, method, path string, form url.Values, cookies []*http.Cookie, header map[string]string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "http://localhost:9080"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var sameOriginHeader = map[string]string{"Origin": "http://localhost:9080"}

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.CookieName && c.Value != "" {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("session cookie %+v is not HttpOnly and SameSite=Strict", c)
			}
			return c
		}
	}
	t.Fatalf("no session cookie in %v", rec.Result().Header)
	return nil
}

func TestTokenModeNeedsASession(t *testing.T) {
	h := tokenServer()
	for _, p := range []string{"/", "/graph", "/graph.json", "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken"} {
		rec := do(h, http.MethodGet, p, nil, nil, nil)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `action="/login"`) {
			t.Errorf("GET %s without a session: %d, want 401 and the login page:\n%s", p, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "kustomize build failed") {
			t.Errorf("GET %s without a session shows an object's status", p)
		}
	}
	if rec := do(h, http.MethodGet, "/static/ui.css", nil, nil, nil); rec.Code != http.StatusOK {
		t.Errorf("the login page's CSS needs no session: %d", rec.Code)
	}
	rec := do(h, http.MethodPost, "/logout", url.Values{}, nil, sameOriginHeader)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "log in to act") {
		t.Errorf("POST without a session: %d, want 401 log in to act:\n%s", rec.Code, rec.Body)
	}
}

func TestLogin(t *testing.T) {
	h := tokenServer()
	for _, tc := range []struct{ token, want string }{
		{"", "no token given"},
		{"bad-token", "the API server does not accept this token"},
	} {
		rec := do(h, http.MethodPost, "/login", url.Values{"token": {tc.token}}, nil, sameOriginHeader)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("token %q: %d, want 401 saying %q:\n%s", tc.token, rec.Code, tc.want, rec.Body)
		}
		if len(rec.Result().Cookies()) != 0 {
			t.Errorf("token %q set a cookie", tc.token)
		}
	}
	rec := do(h, http.MethodPost, "/login", url.Values{"token": {"good-token"}}, nil, map[string]string{"Origin": "http://evil.example"})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "foreign origin") {
		t.Errorf("login from a foreign origin: %d\n%s", rec.Code, rec.Body)
	}

	rec = do(h, http.MethodPost, "/login", url.Values{"token": {"good-token"}}, nil, sameOriginHeader)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("good token: %d to %q, want 303 to /:\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	c := sessionCookie(t, rec)
	page := do(h, http.MethodGet, "/", nil, []*http.Cookie{c}, nil)
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, "system:serviceaccount:apps:editor") {
		t.Fatalf("overview with the session: %d\n%s", page.Code, body)
	}
	csrf := between(body, `<meta name="csrf-token" content="`, `"`)
	if csrf == "" || !strings.Contains(body, `name="csrf_token" value="`+csrf+`"`) || !strings.Contains(body, `hx-headers="{&#34;X-CSRF-Token&#34;:&#34;`+csrf) {
		t.Errorf("the page lacks the CSRF meta, hidden field or htmx header:\n%s", body)
	}

	// Logout needs the CSRF token.
	rec = do(h, http.MethodPost, "/logout", url.Values{}, []*http.Cookie{c}, sameOriginHeader)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "missing CSRF token") {
		t.Errorf("logout without CSRF: %d\n%s", rec.Code, rec.Body)
	}
	rec = do(h, http.MethodPost, "/logout", url.Values{"csrf_token": {csrf}}, []*http.Cookie{c}, map[string]string{"Origin": "http://evil.example"})
	if rec.Code != http.StatusForbidden {
		t.Errorf("logout from a foreign origin: %d", rec.Code)
	}
	if got := do(h, http.MethodGet, "/", nil, []*http.Cookie{c}, nil); got.Code != http.StatusOK {
		t.Fatalf("a refused logout ended the session: %d", got.Code)
	}
	rec = do(h, http.MethodPost, "/logout", url.Values{"csrf_token": {csrf}}, []*http.Cookie{c}, sameOriginHeader)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d to %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if got := do(h, http.MethodGet, "/", nil, []*http.Cookie{c}, nil); got.Code != http.StatusUnauthorized {
		t.Errorf("the cookie still works after logout: %d", got.Code)
	}
}

func TestLocalModeOneTimeURL(t *testing.T) {
	h, token := localServer(t)
	rec := do(h, http.MethodGet, "/", nil, nil, nil)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "open the URL with its one-time token that `flux ui` printed") {
		t.Fatalf("no token, no session: %d\n%s", rec.Code, rec.Body)
	}
	if rec := do(h, http.MethodGet, "/login", nil, nil, nil); rec.Code != http.StatusForbidden {
		t.Errorf("/login in local mode: %d, want 403", rec.Code)
	}
	if rec := do(h, http.MethodGet, "/?token=wrong", nil, nil, nil); rec.Code != http.StatusForbidden ||
		!strings.Contains(rec.Body.String(), "one-time token is not valid") {
		t.Errorf("wrong token: %d\n%s", rec.Code, rec.Body)
	}

	rec = do(h, http.MethodGet, "/?kind=Kustomization&token="+token, nil, nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?kind=Kustomization" {
		t.Fatalf("one-time URL: %d to %q, want 303 to the URL without the token", rec.Code, rec.Header().Get("Location"))
	}
	c := sessionCookie(t, rec)
	page := do(h, http.MethodGet, "/?kind=Kustomization", nil, []*http.Cookie{c}, nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "kubernetes-admin") {
		t.Fatalf("overview with the exchanged cookie: %d\n%s", page.Code, page.Body)
	}

	// The token works once: a second browser cannot use it.
	if rec := do(h, http.MethodGet, "/?token="+token, nil, nil, nil); rec.Code != http.StatusForbidden {
		t.Errorf("token reused: %d, want 403", rec.Code)
	}
	// The browser that has the session is sent on, the token not spent again.
	if rec := do(h, http.MethodGet, "/?token="+token, nil, []*http.Cookie{c}, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Errorf("token with a session: %d to %q", rec.Code, rec.Header().Get("Location"))
	}

	// Another Host is refused before anything else, token or not.
	req := httptest.NewRequest(http.MethodGet, "http://evil.example:9080/?token="+token, nil)
	req.AddCookie(c)
	out := httptest.NewRecorder()
	h.ServeHTTP(out, req)
	if out.Code != http.StatusForbidden || len(out.Result().Cookies()) != 0 || !strings.Contains(out.Body.String(), "not one this UI serves") {
		t.Errorf("Host evil.example: %d\n%s", out.Code, out.Body)
	}
}

func TestAnonymousReadsButCannotPost(t *testing.T) {
	h := newTestServer()
	if rec := do(h, http.MethodGet, "/", nil, nil, nil); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "csrf-token") {
		t.Errorf("anonymous overview: %d (and no CSRF token for an anonymous visitor)", rec.Code)
	}
	rec := do(h, http.MethodPost, "/logout", url.Values{}, nil, sameOriginHeader)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "log in to act") {
		t.Errorf("anonymous POST: %d\n%s", rec.Code, rec.Body)
	}
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

func TestLoginReturnsToThePageAskedFor(t *testing.T) {
	h := tokenServer()
	const page = "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken"
	rec := do(h, http.MethodGet, page, nil, nil, nil)
	if !strings.Contains(rec.Body.String(), `name="next" value="`+page+`"`) {
		t.Fatalf("the login page does not remember %s:\n%s", page, rec.Body)
	}
	for next, want := range map[string]string{
		page:                   page,
		"//evil.example/":      "/",
		"https://evil.example": "/",
		"/\\evil.example":      "/",
		"":                     "/",
	} {
		rec := do(h, http.MethodPost, "/login", url.Values{"token": {"good-token"}, "next": {next}}, nil, sameOriginHeader)
		if got := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || got != want {
			t.Errorf("login with next %q: %d to %q, want %q", next, rec.Code, got, want)
		}
	}
}

func TestActionAfterTheSessionEndedGoesToLogin(t *testing.T) {
	h := tokenServer()
	rec := do(h, http.MethodPost, "/logout", url.Values{"csrf_token": {"x"}},
		[]*http.Cookie{{Name: auth.CookieName, Value: "ended-session"}}, sameOriginHeader)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Errorf("POST with an ended session: %d to %q, want 303 to /login", rec.Code, rec.Header().Get("Location"))
	}
}
