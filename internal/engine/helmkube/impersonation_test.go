package helmkube_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// TestImpersonationWithoutRights acts as a ServiceAccount that may do
// nothing: the action fails as forbidden, naming the account, and nothing is
// installed.
func TestImpersonationWithoutRights(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}
	if _, err := env.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + ns + ":nobody"
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	target := newTarget(t, cfg)

	_, err := install(actionConfig(t, target, ns), ns, "denied", sdkChart(t, helmtest.ConfigMapChart("demo", "1.0.0")), nil)
	if err == nil {
		t.Fatal("install as a ServiceAccount without rights succeeded")
	}
	if !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), user) {
		t.Errorf("install as %s: %v, want a forbidden error naming the account", user, err)
	}
	if _, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "denied-demo", metav1.GetOptions{}); err == nil {
		t.Error("the ConfigMap was created although the account may not")
	}
	secrets, err := env.Kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Errorf("%d release Secrets written although the account may not", len(secrets.Items))
	}
}
