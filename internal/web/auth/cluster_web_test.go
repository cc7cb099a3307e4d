package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/web"
	"github.com/driftless/driftless/internal/web/actor"
	"github.com/driftless/driftless/internal/web/auth"
)

// TestClusterViewerSeesOnlyItsNamespace: a ServiceAccount whose Role reads
// Kustomizations in one namespace logs in to the UI with its token (a
// TokenReview of the real API server) and, with reads filtered by real
// SubjectAccessReviews, sees that namespace's object and nothing of
// another's, whose page is the 404 of a missing object.
func TestClusterViewerSeesOnlyItsNamespace(t *testing.T) {
	ctx := context.Background()
	ns, other := env.Namespace(t), env.Namespace(t)
	kube := env.Kube
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "viewer"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "kustomization-viewer"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{kustomizeGroup}, Resources: []string{"kustomizations"}, Verbs: []string{"get", "list", "watch"}}}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "viewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "viewer", Namespace: ns}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "viewer", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// The store stands in for the controller's cache: both namespaces.
	store := web.NewMemoryStore(
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine-app"}},
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "theirs-app"}},
	)
	h := web.New(web.Options{Store: store, Hosts: []string{"localhost"},
		Login:  &auth.Authenticator{Reviews: kube.AuthenticationV1().TokenReviews()},
		Access: auth.NewAccess(kube.AuthorizationV1().SubjectAccessReviews(), auth.AccessOptions{})})

	req := httptest.NewRequest(http.MethodPost, "http://localhost/login", strings.NewReader(url.Values{"token": {tr.Status.Token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://localhost")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login with the ServiceAccount's token: %d\n%s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "http://localhost"+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, p := range []string{"/", "/graph", "/graph.json"} {
		rec := get(p)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "mine-app") || strings.Contains(rec.Body.String(), "theirs-app") {
			t.Errorf("GET %s: %d, want %s/mine-app and nothing of %s:\n%s", p, rec.Code, ns, other, rec.Body)
		}
	}
	hidden := get("/o/" + kustomizeGroup + "/Kustomization/" + other + "/theirs-app")
	missing := get("/o/" + kustomizeGroup + "/Kustomization/" + other + "/no-such-app")
	if hidden.Code != http.StatusNotFound || hidden.Body.String() != missing.Body.String() {
		t.Errorf("the other namespace's object: %d, want the missing object's 404:\n%s", hidden.Code, hidden.Body)
	}
	if rec := get("/o/" + kustomizeGroup + "/Kustomization/" + ns + "/mine-app"); rec.Code != http.StatusOK {
		t.Errorf("its own namespace's object: %d", rec.Code)
	}
}

// TestClusterAnonymousSeesWhatItsRoleAllows: with anonymous reads on, a
// visitor without a session is asked about as driftless:web:anonymous in
// group driftless:web:viewers; a RoleBinding of that group to a read-only
// Role in one namespace shows that namespace's objects and nothing of
// another, and never an action, though the UI has a way to act.
func TestClusterAnonymousSeesWhatItsRoleAllows(t *testing.T) {
	ctx := context.Background()
	ns, other := env.Namespace(t), env.Namespace(t)
	kube := env.Kube
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "web-viewers"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{kustomizeGroup}, Resources: []string{"kustomizations"}, Verbs: []string{"get", "list", "watch", "patch"}}}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "web-viewers"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: auth.AnonymousGroup}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitAllowed(t, auth.AnonymousName, []string{auth.AnonymousGroup}, "list", kustomizeGroup, "kustomizations", ns)
	store := web.NewMemoryStore(
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shown-app"}},
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "unseen-app"}},
	)
	access := auth.NewAccess(kube.AuthorizationV1().SubjectAccessReviews(), auth.AccessOptions{})
	h := web.New(web.Options{Store: store, Hosts: []string{"localhost"}, Anonymous: true, Access: access,
		Login: &auth.Authenticator{Reviews: kube.AuthenticationV1().TokenReviews()}, Actor: actor.New(env.Config, access)})
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost"+path, nil))
		return rec
	}
	if rec := get("/"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "shown-app") || strings.Contains(rec.Body.String(), "unseen-app") {
		t.Errorf("the anonymous overview: %d, want %s/shown-app and nothing of %s:\n%s", rec.Code, ns, other, rec.Body)
	}
	page := get("/o/" + kustomizeGroup + "/Kustomization/" + ns + "/shown-app").Body.String()
	if strings.Contains(page, `class="action"`) || !strings.Contains(page, "Log in to act on this object") {
		t.Errorf("the anonymous visitor sees action forms (its role even allows patch), or no word why not")
	}
	if rec := get("/o/" + kustomizeGroup + "/Kustomization/" + other + "/unseen-app"); rec.Code != http.StatusNotFound {
		t.Errorf("the other namespace's object: %d, want 404", rec.Code)
	}
}
