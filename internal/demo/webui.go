package demo

import (
	"context"
	"fmt"
	"os"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// uiAccount is the ServiceAccount whose token the demo prints for the web
// UI's login: the demo cluster is yours, so it may do what you may.
const uiAccount = "demo-admin"

// uiTokenLifetime is how long the printed token works: a day of demo.
const uiTokenLifetime = 24 * time.Hour

// uiToken makes the demo's UI account (cluster-admin, on the demo's own
// throwaway cluster) and writes a token of it to path, readable by you
// only, for the web UI's login page.
func (c *clients) uiToken(ctx context.Context, path string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: uiAccount}}
	if _, err := c.kube.CoreV1().ServiceAccounts(systemNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the web UI's ServiceAccount: %w", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "driftless-" + uiAccount},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: uiAccount, Namespace: systemNamespace}},
	}
	if _, err := c.kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bind the web UI's ServiceAccount: %w", err)
	}
	seconds := int64(uiTokenLifetime / time.Second)
	tr, err := c.kube.CoreV1().ServiceAccounts(systemNamespace).CreateToken(ctx, uiAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("make a token for the web UI: %w", err)
	}
	if err := os.WriteFile(path, []byte(tr.Status.Token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the web UI's token: %w", err)
	}
	return nil
}
