package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/engine/health"
)

// TestForbiddenServiceAccountEndsWait: a Checker whose client impersonates a
// ServiceAccount without rights on a tenant's namespace gives up on a
// Secret there at once with a *WatchError saying forbidden, through a
// per-namespace informer and through the shared cluster-scope one alike,
// instead of waiting out its two minutes.
func TestForbiddenServiceAccountEndsWait(t *testing.T) {
	ctx := context.Background()
	victim, tenant := env.Namespace(t), env.Namespace(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, StringData: map[string]string{"password": "hunter2-secret"}}
	if _, err := env.Kube.CoreV1().Secrets(victim).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reconciler"}}
	if _, err := env.Kube.CoreV1().ServiceAccounts(tenant).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + tenant + ":reconciler"
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}

	for _, tc := range []struct {
		name  string
		opts  health.CacheOptions
		owned bool
	}{
		{"namespace informer", health.CacheOptions{}, false},
		{"shared cluster informer", health.CacheOptions{OwnedSelector: "health.driftless.test/owner"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checker, cache, _ := newCheckerWith(t, cfg, tc.opts)
			ref := health.ObjectRef{Version: "v1", Kind: "Secret", Namespace: victim, Name: "creds", Owned: tc.owned}
			_, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{Timeout: 2 * time.Minute})
			var timeout *health.TimeoutError
			if errors.As(err, &timeout) {
				t.Fatalf("the wait timed out instead of failing on the forbidden watch: %v", err)
			}
			var watchErr *health.WatchError
			if !errors.As(err, &watchErr) {
				t.Fatalf("err = %v, want *WatchError", err)
			}
			mustContain(t, err, "cannot watch secrets", "forbidden", user)
			if s := cache.Stats(); s.Informers != 0 {
				t.Errorf("informer left running: %+v", s)
			}
		})
	}
}
