package manager

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/web"
	"github.com/driftless/driftless/internal/web/auth"
)

// tokenReviews authenticates one token as the editor.
type tokenReviews struct{}

func (tokenReviews) Create(_ context.Context, r *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	out := r.DeepCopy()
	if r.Spec.Token == "editor-token" {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true,
			User: authenticationv1.UserInfo{Username: "system:serviceaccount:team-a:editor"}}
	}
	return out, nil
}

// accessReviews is RBAC with one Role: the editor and the anonymous
// visitors' group may read in team-a, nobody in team-b.
type accessReviews struct{}

func (accessReviews) Create(_ context.Context, r *authorizationv1.SubjectAccessReview, _ metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	out := r.DeepCopy()
	who := r.Spec.User == "system:serviceaccount:team-a:editor" || r.Spec.User == auth.AnonymousName
	out.Status.Allowed = who && r.Spec.ResourceAttributes.Namespace == "team-a"
	return out, nil
}

// TestWebServerOptionsFilterByRBAC: the in-cluster UI logs in with
// TokenReviews, filters reads with SubjectAccessReviews, and takes
// --web-max-streams and --web-anonymous-user from the flags.
func TestWebServerOptionsFilterByRBAC(t *testing.T) {
	store := web.NewMemoryStore(
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "visible-app"}},
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "hidden-app"}},
	)
	for _, anonymous := range []bool{false, true} {
		opts := parse(t, "--web-addr=:9080", "--web-max-streams=7")
		opts.Web.AnonymousUser = anonymous
		opts.Web.Hosts = []string{"localhost"}
		wo := webServerOptions(opts, store, &rest.Config{Host: "https://127.0.0.1:1"}, tokenReviews{}, accessReviews{}, nil, logr.Discard())
		if wo.MaxStreams != 7 || wo.Anonymous != anonymous || wo.Auth != web.AuthToken || wo.Login == nil || wo.Access == nil ||
			wo.Actor == nil || wo.ActionTimeout != 2*time.Minute {
			t.Fatalf("options from the flags: %+v", wo)
		}
		h := web.New(wo)
		var cookies []*http.Cookie
		if !anonymous {
			rec := serve(h, http.MethodGet, "/", nil) // no session: the login page, nothing else
			if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "-app") {
				t.Fatalf("without a session: %d\n%s", rec.Code, rec.Body)
			}
			rec = serve(h, http.MethodPost, "/login", url.Values{"token": {"editor-token"}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("login: %d\n%s", rec.Code, rec.Body)
			}
			cookies = rec.Result().Cookies()
		}
		req := httptest.NewRequest(http.MethodGet, "http://localhost/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "visible-app") || strings.Contains(body, "hidden-app") {
			t.Errorf("anonymous=%t: overview %d, want team-a's object and not team-b's:\n%s", anonymous, rec.Code, body)
		}
	}
}

func serve(h http.Handler, method, path string, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "http://localhost"+path, body)
	req.Header.Set("Origin", "http://localhost")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestWebServerClosesTheUIOnStop: once the manager stops, the UI refuses
// new streams (503), rather than open one on a server shutting down.
func TestWebServerClosesTheUIOnStop(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ui := web.NewUI(web.Options{Store: web.NewMemoryStore(), Hosts: []string{"localhost"}, Anonymous: true})
	head := func() int {
		rec := httptest.NewRecorder()
		ui.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "http://localhost/events/", nil))
		return rec.Code
	}
	if code := head(); code != http.StatusNoContent {
		t.Fatalf("HEAD /events/ before the stop: %d, want 204", code)
	}
	srv := &webServer{listener: l, handler: ui, log: logr.Discard()}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Start(ctx) }()
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if code := head(); code != http.StatusServiceUnavailable {
		t.Errorf("HEAD /events/ after the stop: %d, want 503", code)
	}
}
