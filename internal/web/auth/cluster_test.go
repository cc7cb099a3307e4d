package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/testkit/testcluster"
	"github.com/driftless/driftless/internal/web/auth"
)

var env *testcluster.Cluster

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{NoCRDs: true}, &env) }

const kustomizeGroup = "kustomize.toolkit.fluxcd.io"

// TestClusterLoginAndAccess logs a ServiceAccount in with a token from the
// TokenRequest API against the real API server, refuses a garbage token,
// checks that Allowed follows a Role the test creates, and that the
// rest.Config of the session acts as the ServiceAccount, not as the admin
// the test runs as.
func TestClusterLoginAndAccess(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	other := env.Namespace(t)
	kube := env.Kube

	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "editor"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "kustomization-editor"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{kustomizeGroup}, Resources: []string{"kustomizations"},
			Verbs: []string{"get", "list", "watch", "patch"},
		}},
	}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "editor", Namespace: ns}},
	}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expiry := int64(1800)
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "editor",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Login.
	authn := auth.Authenticator{Reviews: kube.AuthenticationV1().TokenReviews()}
	user, exp, err := authn.Login(ctx, tr.Status.Token)
	if err != nil {
		t.Fatalf("login with the ServiceAccount's token: %v", err)
	}
	if want := "system:serviceaccount:" + ns + ":editor"; user.Name != want {
		t.Errorf("user %q, want %q", user.Name, want)
	}
	if user.UID == "" || !slices.Contains(user.Groups, "system:serviceaccounts:"+ns) {
		t.Errorf("user %+v lacks its uid or namespace group", user)
	}
	if now := time.Now(); exp.IsZero() || !exp.After(now) || exp.After(now.Add(time.Hour)) {
		t.Errorf("token expiry %s, want about 30 min from now", exp)
	}
	var le *auth.LoginError
	if _, _, err := authn.Login(ctx, "garbage"); !errors.As(err, &le) || err.Error() != "the API server does not accept this token" {
		t.Errorf("garbage token: %v", err)
	}

	// Access follows the Role.
	access := auth.NewAccess(kube.AuthorizationV1().SubjectAccessReviews(), auth.AccessOptions{})
	for _, c := range []struct {
		verb, ns string
		want     bool
	}{
		{"patch", ns, true},
		{"list", ns, true},
		{"delete", ns, false},
		{"patch", other, false},
		{"list", "", false},
	} {
		got, err := access.Allowed(ctx, user, c.verb, kustomizeGroup, "kustomizations", c.ns, "")
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("Allowed(%s kustomizations in %q) = %t, want %t", c.verb, c.ns, got, c.want)
		}
	}

	// Acting as the user: the session's config is the ServiceAccount's.
	sessions := auth.NewSessions(auth.SessionOptions{})
	sess, err := sessions.Create(user, auth.ModeToken, tr.Status.Token, exp)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := auth.ConfigFor(env.Config, sess)
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != user.Name {
		t.Errorf("the token session acts as %q, want %q", got, user.Name)
	}
	asUser := kubernetes.NewForConfigOrDie(cfg)
	_, err = asUser.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("creating a ConfigMap as the editor: %v, want forbidden", err)
	}

	// Proxy mode impersonates with the base identity (here the admin).
	cfg, err = auth.ConfigFor(env.Config, auth.Session{User: auth.User{Name: "jane", Groups: []string{"team-a"}}, Mode: auth.ModeProxy})
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, cfg); got != "jane" {
		t.Errorf("the proxied session acts as %q, want jane", got)
	}

	// After logout the session is gone and holds no token to act with.
	sessions.Delete(sess.ID)
	if _, ok := sessions.Get(sess.ID); ok {
		t.Error("session survives logout")
	}
}

func whoAmI(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview: %v", err)
	}
	return review.Status.UserInfo.Username
}
