package gitrepository_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

func TestHTTPAuth(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"app.yaml": "kind: ConfigMap"}, "init")
	basic := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	bearer := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{BearerToken: "t0ken"})
	tls := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{TLS: true})
	mtls := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{RequireClientCert: true})
	clientCert, clientKey := mtls.ClientCertificate()
	ref := &sourcev1.GitRepositoryRef{Branch: "main"}
	ns := env.Namespace(t)

	ok := []struct {
		name string
		url  string
		data map[string][]byte
	}{
		{"basic", basic.RepoURL(repo.Name()), map[string][]byte{"username": []byte("git"), "password": []byte("s3cret")}},
		{"bearer", bearer.RepoURL(repo.Name()), map[string][]byte{"bearerToken": []byte("t0ken")}},
		{"ca", tls.RepoURL(repo.Name()), map[string][]byte{"ca.crt": tls.CAPEM}},
		{"mtls", mtls.RepoURL(repo.Name()), map[string][]byte{"ca.crt": mtls.CAPEM, "tls.crt": clientCert, "tls.key": clientKey}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, sourcev1.GitRepositorySpec{URL: tc.url, Reference: ref, SecretRef: secret(t, ns, tc.name, tc.data)})
			controllertest.WaitReady(t, kube, obj)
		})
	}

	bad := []struct {
		name, url, reason, text string
		data                    map[string][]byte
	}{
		{"wrong-password", basic.RepoURL(repo.Name()), sourcev1.AuthenticationFailedReason, "authentication",
			map[string][]byte{"username": []byte("git"), "password": []byte("wrong")}},
		{"no-credentials", basic.RepoURL(repo.Name()), sourcev1.AuthenticationFailedReason, "authentication", nil},
		{"wrong-token", bearer.RepoURL(repo.Name()), sourcev1.AuthenticationFailedReason, "authentication",
			map[string][]byte{"bearerToken": []byte("nope")}},
		{"basic-and-bearer", basic.RepoURL(repo.Name()), sourcev1.AuthenticationFailedReason, "bearerToken",
			map[string][]byte{"username": []byte("git"), "password": []byte("s3cret"), "bearerToken": []byte("t0ken")}},
		{"unknown-ca", tls.RepoURL(repo.Name()), sourcev1.GitOperationFailedReason, "certificate", nil},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			spec := sourcev1.GitRepositorySpec{URL: tc.url, Reference: ref}
			if tc.data != nil {
				spec.SecretRef = secret(t, ns, tc.name, tc.data)
			}
			obj := create(t, ns, tc.name, spec)
			got := controllertest.WaitNotReady(t, kube, obj, tc.reason)
			assertFetchFailed(t, got, tc.reason, tc.text)
			for _, secretValue := range []string{"s3cret", "t0ken", "wrong", "nope"} {
				if strings.Contains(controllertest.Describe(got), secretValue) {
					t.Errorf("a secret value appears in the conditions: %s", controllertest.Describe(got))
				}
			}
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, tc.reason, tc.text)
		})
	}
}

func TestSSHAuth(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"app.yaml": "kind: ConfigMap"}, "init")
	key := gittest.GenerateSSHKey(t)
	encrypted := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "open sesame", Algorithm: "ecdsa"})
	stranger := gittest.GenerateSSHKey(t)
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{AuthorizedKeys: []string{key.AuthorizedKey, encrypted.AuthorizedKey}})
	other := gittest.GenerateSSHKey(t)
	url := srv.URL(repo.Name())
	ref := &sourcev1.GitRepositoryRef{Branch: "main"}
	ns := env.Namespace(t)

	ok := map[string]map[string][]byte{
		"identity":           {"identity": key.PrivateKey, "known_hosts": []byte(srv.KnownHosts())},
		"encrypted-identity": {"identity": encrypted.PrivateKey, "password": []byte("open sesame"), "known_hosts": []byte(srv.KnownHosts())},
	}
	for name, data := range ok {
		t.Run(name, func(t *testing.T) {
			obj := create(t, ns, name, sourcev1.GitRepositorySpec{URL: url, Reference: ref, SecretRef: secret(t, ns, name, data)})
			got := controllertest.WaitReady(t, kube, obj)
			if got.Status.Artifact == nil || !strings.HasPrefix(got.Status.Artifact.Revision, "main@sha1:") {
				t.Errorf("artifact %+v", got.Status.Artifact)
			}
		})
	}

	bad := []struct {
		name, reason, text string
		data               map[string][]byte
	}{
		{"unauthorized-key", sourcev1.AuthenticationFailedReason, "authentication",
			map[string][]byte{"identity": stranger.PrivateKey, "known_hosts": []byte(srv.KnownHosts())}},
		{"garbage-known-hosts", sourcev1.AuthenticationFailedReason, "known_hosts",
			map[string][]byte{"identity": key.PrivateKey, "known_hosts": []byte("this is not a known_hosts line")}},
		{"host-key-mismatch", sourcev1.AuthenticationFailedReason, "host key",
			map[string][]byte{"identity": key.PrivateKey, "known_hosts": []byte(srv.KnownHostsLine(other.PublicKey))}},
		{"missing-known-hosts", sourcev1.AuthenticationFailedReason, "known_hosts",
			map[string][]byte{"identity": key.PrivateKey}},
		{"wrong-passphrase", sourcev1.AuthenticationFailedReason, "identity",
			map[string][]byte{"identity": encrypted.PrivateKey, "password": []byte("wrong"), "known_hosts": []byte(srv.KnownHosts())}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, sourcev1.GitRepositorySpec{URL: url, Reference: ref, SecretRef: secret(t, ns, tc.name, tc.data)})
			got := controllertest.WaitNotReady(t, kube, obj, tc.reason)
			assertFetchFailed(t, got, tc.reason, tc.text)
			if strings.Contains(controllertest.Describe(got), "PRIVATE KEY") {
				t.Errorf("key material in the conditions: %s", controllertest.Describe(got))
			}
		})
	}
}

// assertFetchFailed checks FetchFailed=True with the reason and a message
// naming text, and that the reconciliation will be retried.
func assertFetchFailed(t *testing.T, o *sourcev1.GitRepository, reason, text string) {
	t.Helper()
	c := reconcile.Get(o, sourcev1.FetchFailedCondition)
	if c == nil || c.Status != "True" || c.Reason != reason {
		t.Fatalf("FetchFailed = %+v, want True %s", c, reason)
	}
	if !strings.Contains(strings.ToLower(c.Message), strings.ToLower(text)) {
		t.Errorf("FetchFailed message %q does not mention %q", c.Message, text)
	}
	if r := reconcile.Get(o, meta.ReconcilingCondition); r == nil || r.Reason != meta.ProgressingWithRetryReason {
		t.Errorf("want Reconciling ProgressingWithRetry (retry with back-off), got %+v", r)
	}
}
