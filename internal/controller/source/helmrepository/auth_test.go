package helmrepository_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

const (
	user     = "chart-reader"
	password = "s3cr3t-pa55word"
)

func TestBasicAuth(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{Username: user, Password: password})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))

	// No credentials: refused, and the message says what to do.
	anon := create(t, ns, "anonymous", sourcev1.HelmRepositorySpec{URL: kit.URL})
	got := controllertest.WaitNotReady(t, kube, anon, sourcev1.AuthenticationFailedReason)
	msg := condition(got, meta.ReadyCondition).Message
	for _, want := range []string{kit.URL, "unauthorized", "secretRef"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
	if c := condition(got, sourcev1.FetchFailedCondition); c == nil || c.Status != "True" || c.Reason != sourcev1.AuthenticationFailedReason {
		t.Errorf("FetchFailed = %+v", c)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.AuthenticationFailedReason, kit.URL)

	// Wrong password: refused, the Secret named, its content never shown.
	wrong := create(t, ns, "wrong", sourcev1.HelmRepositorySpec{URL: kit.URL,
		SecretRef: secret(t, ns, "wrong-auth", map[string][]byte{"username": []byte(user), "password": []byte("not-" + password)})})
	got = controllertest.WaitNotReady(t, kube, wrong, sourcev1.AuthenticationFailedReason)
	msg = condition(got, meta.ReadyCondition).Message
	if !strings.Contains(msg, "wrong-auth") || strings.Contains(msg, password) {
		t.Errorf("message %q should name the Secret and never hold the password", msg)
	}

	// Right credentials: Ready. Fixing the Secret of a failing repository
	// is picked up by its retries.
	right := create(t, ns, "right", sourcev1.HelmRepositorySpec{URL: kit.URL,
		SecretRef: secret(t, ns, "right-auth", map[string][]byte{"username": []byte(user), "password": []byte(password)})})
	controllertest.WaitReady(t, kube, right)
	controllertest.Patch(t, kube, wrong, `{"spec":{"secretRef":{"name":"right-auth"}}}`)
	controllertest.WaitReady(t, kube, wrong)

	// A Secret that is not there yet is retried, not stalled.
	missing := create(t, ns, "missing", sourcev1.HelmRepositorySpec{URL: kit.URL, SecretRef: &meta.LocalObjectReference{Name: "later"}})
	got = controllertest.WaitNotReady(t, kube, missing, sourcev1.AuthenticationFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "'"+ns+"/later'") {
		t.Errorf("message %q does not name the missing Secret", msg)
	}
	if condition(got, meta.StalledCondition) != nil {
		t.Error("a missing Secret stalled the repository")
	}
	secret(t, ns, "later", map[string][]byte{"username": []byte(user), "password": []byte(password)})
	controllertest.WaitReady(t, kube, missing)

	// Half a pair is refused, naming the key.
	half := create(t, ns, "half", sourcev1.HelmRepositorySpec{URL: kit.URL,
		SecretRef: secret(t, ns, "half-auth", map[string][]byte{"username": []byte(user)})})
	got = controllertest.WaitNotReady(t, kube, half, sourcev1.AuthenticationFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "password") || !strings.Contains(msg, "half-auth") {
		t.Errorf("message %q should name the Secret and the missing key", msg)
	}
}

func TestTLS(t *testing.T) {
	ns := env.Namespace(t)
	t.Run("custom CA", func(t *testing.T) {
		kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{TLS: true})
		kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
		untrusted := create(t, ns, "untrusted", sourcev1.HelmRepositorySpec{URL: kit.URL})
		got := controllertest.WaitNotReady(t, kube, untrusted, sourcev1.IndexationFailedReason)
		if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, kit.URL) || !strings.Contains(strings.ToLower(msg), "certificate") {
			t.Errorf("message %q should name the URL and the certificate problem", msg)
		}
		trusted := create(t, ns, "trusted", sourcev1.HelmRepositorySpec{URL: kit.URL,
			CertSecretRef: secret(t, ns, "ca", map[string][]byte{"ca.crt": kit.CAPEM})})
		controllertest.WaitReady(t, kube, trusted)
	})
	t.Run("mutual TLS", func(t *testing.T) {
		kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{ClientCert: true})
		kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
		noCert := create(t, ns, "no-client-cert", sourcev1.HelmRepositorySpec{URL: kit.URL,
			CertSecretRef: secret(t, ns, "ca-only", map[string][]byte{"ca.crt": kit.CAPEM})})
		controllertest.WaitNotReady(t, kube, noCert, sourcev1.IndexationFailedReason)
		withCert := create(t, ns, "client-cert", sourcev1.HelmRepositorySpec{URL: kit.URL,
			CertSecretRef: secret(t, ns, "mtls", map[string][]byte{"ca.crt": kit.CAPEM, "tls.crt": kit.ClientCertPEM, "tls.key": kit.ClientKeyPEM})})
		controllertest.WaitReady(t, kube, withCert)
	})
	t.Run("TLS keys in secretRef", func(t *testing.T) {
		// Deprecated, still honoured, with a warning.
		kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{ClientCert: true, Username: user, Password: password})
		kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
		legacy := create(t, ns, "legacy", sourcev1.HelmRepositorySpec{URL: kit.URL,
			SecretRef: secret(t, ns, "legacy-keys", map[string][]byte{
				"username": []byte(user), "password": []byte(password),
				"ca.crt": kit.CAPEM, "tls.crt": kit.ClientCertPEM, "tls.key": kit.ClientKeyPEM,
			})})
		got := controllertest.WaitReady(t, kube, legacy)
		controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, "DeprecationWarning", "certSecretRef")
	})
}
