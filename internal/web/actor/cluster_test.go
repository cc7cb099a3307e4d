package actor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/testkit/testcluster"
	"github.com/driftless/driftless/internal/web/actor"
	"github.com/driftless/driftless/internal/web/auth"
)

var env *testcluster.Cluster

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}, &env) }

// serviceAccount creates a ServiceAccount bound to a Role with verbs on
// Kustomizations in ns, and returns a session of its token, as a token
// login makes.
func serviceAccount(t *testing.T, ns, name string, verbs ...string) auth.Session {
	t.Helper()
	ctx := context.Background()
	kube := env.Kube
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{kinds.Kustomization().Group}, Resources: []string{"kustomizations"}, Verbs: verbs}}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, verb := range verbs {
		env.WaitAllowed(t, "system:serviceaccount:"+ns+":"+name, []string{"system:serviceaccounts", "system:serviceaccounts:" + ns},
			verb, kinds.Kustomization().Group, "kustomizations", ns)
	}
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	user, exp, err := (&auth.Authenticator{Reviews: kube.AuthenticationV1().TokenReviews()}).Login(ctx, tr.Status.Token)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := auth.NewSessions(auth.SessionOptions{}).Create(user, auth.ModeToken, tr.Status.Token, exp)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func kustomization(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	k := kinds.Kustomization()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": k.GroupVersion().String(), "kind": k.Kind,
		"metadata": map[string]any{"namespace": ns, "name": name},
		"spec": map[string]any{"interval": "10m", "path": "./", "prune": true,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": "none"}},
	}}
	got, err := env.Dynamic.Resource(k.GroupVersion().WithResource(k.Resource)).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func read(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	k := kinds.Kustomization()
	got, err := env.Dynamic.Resource(k.GroupVersion().WithResource(k.Resource)).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestClusterActionsGoOutAsTheViewer: the editor's reconcile and suspend
// reach the object; the viewer's patch gets the API server's 403 naming
// the missing right, and the object's resourceVersion does not move. The
// Actor's base config is the admin's, so that 403 shows that the request
// went out with the viewer's token, not the UI's own identity.
func TestClusterActionsGoOutAsTheViewer(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	editor := serviceAccount(t, ns, "editor", "get", "list", "watch", "patch")
	viewer := serviceAccount(t, ns, "viewer", "get", "list", "watch")
	kustomization(t, ns, "apps")
	key := types.NamespacedName{Namespace: ns, Name: "apps"}
	k := kinds.Kustomization()

	for _, review := range []actor.Reviewer{nil, auth.NewAccess(env.Kube.AuthorizationV1().SubjectAccessReviews(), auth.AccessOptions{})} {
		a := actor.New(env.Config, review)
		for sess, want := range map[*auth.Session]bool{&editor: true, &viewer: false} {
			if got, err := a.MayPatch(ctx, *sess, k, key); err != nil || got != want {
				t.Errorf("MayPatch(%s) with reviewer %T = %v, %v; want %v", sess.User.Name, review, got, err, want)
			}
		}
	}

	a := actor.New(env.Config, nil)
	token := kinds.RequestToken(time.Now())
	if err := a.Patch(ctx, editor, k, key, k.Patch(kinds.ActionReconcile, token)); err != nil {
		t.Fatalf("editor's reconcile: %v", err)
	}
	got := read(t, ns, "apps")
	if got.GetAnnotations()[meta.ReconcileRequestAnnotation] != token {
		t.Errorf("annotations after the editor's reconcile: %v", got.GetAnnotations())
	}
	if err := a.Patch(ctx, editor, k, key, k.Patch(kinds.ActionSuspend, "")); err != nil {
		t.Fatalf("editor's suspend: %v", err)
	}
	got = read(t, ns, "apps")
	if s, _, _ := unstructured.NestedBool(got.Object, "spec", "suspend"); !s {
		t.Errorf("spec.suspend after the editor's suspend: %v", got.Object["spec"])
	}
	if !managedBy(got, actor.FieldManager) {
		t.Errorf("managedFields name no %s: %v", actor.FieldManager, got.GetManagedFields())
	}

	before := got.GetResourceVersion()
	err := a.Patch(ctx, viewer, k, key, k.Patch(kinds.ActionResume, kinds.RequestToken(time.Now())))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `"system:serviceaccount:`+ns+`:viewer" cannot patch resource "kustomizations"`) {
		t.Errorf("viewer's resume: %v, want the API server's 403 naming the viewer and the missing patch right", err)
	}
	if after := read(t, ns, "apps").GetResourceVersion(); after != before {
		t.Errorf("the refused patch changed the object: resourceVersion %s → %s", before, after)
	}
}

// TestClusterEditorLosesPatch: the button was shown, then the Role lost
// patch; the click goes to the API server, which refuses it.
func TestClusterEditorLosesPatch(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	editor := serviceAccount(t, ns, "editor", "get", "list", "watch", "patch")
	kustomization(t, ns, "apps")
	key := types.NamespacedName{Namespace: ns, Name: "apps"}
	k := kinds.Kustomization()
	a := actor.New(env.Config, nil)
	if ok, err := a.MayPatch(ctx, editor, k, key); !ok || err != nil {
		t.Fatalf("MayPatch before: %v, %v", ok, err)
	}
	role, err := env.Kube.RbacV1().Roles(ns).Get(ctx, "editor", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role.Rules[0].Verbs = []string{"get", "list", "watch"}
	if _, err := env.Kube.RbacV1().Roles(ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The API server's authorizer learns of the Role's change from its
	// own watch, a moment later: wait until it says no (asked as the
	// admin, so the Actor's cached answer stays as the page had it).
	testcluster.Eventually(t, 30*time.Second, "the authorizer to see the Role lose patch", func() (bool, error) {
		review, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: editor.User.Name, Groups: editor.User.Groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "patch", Group: k.Group, Resource: k.Resource, Namespace: ns, Name: "apps"}},
		}, metav1.CreateOptions{})
		return err == nil && !review.Status.Allowed, err
	})
	if ok, _ := a.MayPatch(ctx, editor, k, key); !ok {
		t.Fatal("the Actor's cached review already says no: the page would have no button to click")
	}
	// The page loaded before still shows the button; the click's patch
	// is refused by the API server, which is the only check.
	before := read(t, ns, "apps").GetResourceVersion()
	err = a.Patch(ctx, editor, k, key, k.Patch(kinds.ActionSuspend, ""))
	if !apierrors.IsForbidden(err) {
		t.Errorf("editor without patch: %v, want 403", err)
	}
	if after := read(t, ns, "apps").GetResourceVersion(); after != before {
		t.Errorf("the refused patch changed the object")
	}
}

// TestClusterAnonymousCannotAct: an anonymous session gets no config at
// all, so nothing is sent.
func TestClusterAnonymousCannotAct(t *testing.T) {
	a := actor.New(&rest.Config{Host: env.Config.Host}, nil)
	k := kinds.Kustomization()
	err := a.Patch(context.Background(), auth.Session{User: auth.AnonymousUser()}, k, types.NamespacedName{Namespace: "default", Name: "x"}, []byte(`{}`))
	if err == nil || err.Error() != auth.ErrAnonymousAction.Error() {
		t.Errorf("anonymous patch: %v", err)
	}
	if ok, err := a.MayPatch(context.Background(), auth.Session{User: auth.AnonymousUser()}, k, types.NamespacedName{Namespace: "default", Name: "x"}); ok || err != nil {
		t.Errorf("anonymous MayPatch: %v, %v", ok, err)
	}
}

func managedBy(u *unstructured.Unstructured, manager string) bool {
	for _, f := range u.GetManagedFields() {
		if f.Manager == manager {
			return true
		}
	}
	return false
}

// TestClusterProxiedUserActsByImpersonation: a user an authenticating
// proxy names acts through the controller's identity (here the admin's)
// impersonating them, so the API server decides by their RBAC: a group
// bound to patch succeeds, a user outside it gets the 403 naming them.
func TestClusterProxiedUserActsByImpersonation(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "editors"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{kinds.Kustomization().Group}, Resources: []string{"kustomizations"}, Verbs: []string{"get", "patch"}}}}
	if _, err := env.Kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "editors"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "editors"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "team-editors"}}}
	if _, err := env.Kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitAllowed(t, "jane", []string{"team-editors"}, "patch", kinds.Kustomization().Group, "kustomizations", ns)
	kustomization(t, ns, "apps")
	key := types.NamespacedName{Namespace: ns, Name: "apps"}
	k := kinds.Kustomization()
	sessions := auth.NewSessions(auth.SessionOptions{})
	jane, _ := sessions.Create(auth.User{Name: "jane", Groups: []string{"team-editors"}}, auth.ModeProxy, "", time.Time{})
	mallory, _ := sessions.Create(auth.User{Name: "mallory", Groups: []string{"team-viewers"}}, auth.ModeProxy, "", time.Time{})

	a := actor.New(env.Config, nil)
	if ok, err := a.MayPatch(ctx, jane, k, key); !ok || err != nil {
		t.Errorf("MayPatch(jane) = %v, %v", ok, err)
	}
	if err := a.Patch(ctx, jane, k, key, k.Patch(kinds.ActionSuspend, "")); err != nil {
		t.Fatalf("jane's suspend: %v", err)
	}
	got := read(t, ns, "apps")
	if s, _, _ := unstructured.NestedBool(got.Object, "spec", "suspend"); !s {
		t.Errorf("spec.suspend after jane's suspend: %v", got.Object["spec"])
	}
	before := got.GetResourceVersion()
	err := a.Patch(ctx, mallory, k, key, k.Patch(kinds.ActionResume, kinds.RequestToken(time.Now())))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `"mallory" cannot patch resource "kustomizations"`) {
		t.Errorf("mallory's resume: %v, want the API server's 403 naming mallory", err)
	}
	if after := read(t, ns, "apps").GetResourceVersion(); after != before {
		t.Errorf("the refused patch changed the object: resourceVersion %s → %s", before, after)
	}
}
