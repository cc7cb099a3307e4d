package ocirepository_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/testca"
)

// TestSecretRefAuth walks a basic-auth registry through no credentials, a
// Secret without a docker config, wrong credentials, the right ones, then a
// deleted Secret: each refusal says whether credentials were sent and from
// which Secret, never their value, and the last artifact stays served.
func TestSecretRefAuth(t *testing.T) {
	const password = "s3cret-pa55"
	reg := newRegistry(t, regOptions{user: "flux", password: password})
	d := reg.pushFiles(t, "private/app", "v1", map[string]string{"v": "1"}, nil)
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("private/app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}, Insecure: true})

	refused := func(want ...string) *sourcev1.OCIRepository {
		t.Helper()
		got := controllertest.WaitFor(t, kube, clientKey(obj), "refusal naming "+want[len(want)-1], func(o *sourcev1.OCIRepository) bool {
			r := reconcile.Get(o, meta.ReadyCondition)
			return r != nil && r.Reason == sourcev1.AuthenticationFailedReason && strings.Contains(r.Message, want[len(want)-1])
		})
		controllertest.AssertKStatus(t, got)
		msg := condition(got, meta.ReadyCondition).Message
		for _, w := range append(want, reg.host, "private/app") {
			if !strings.Contains(msg, w) {
				t.Errorf("message %q does not say %q", msg, w)
			}
		}
		if strings.Contains(msg, password) || strings.Contains(msg, "czNjcmV0") {
			t.Errorf("message leaks the password: %q", msg)
		}
		if c := condition(got, sourcev1.FetchFailedCondition); c == nil || c.Reason != sourcev1.AuthenticationFailedReason {
			t.Errorf("FetchFailed %+v", c)
		}
		return got
	}
	refused("no credentials were sent", "neither spec.secretRef nor the imagePullSecrets")

	secret(t, ns, "not-docker", map[string][]byte{"username": []byte("flux"), "password": []byte(password)})
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "not-docker"} })
	refused(".dockerconfigjson", "Secret '"+ns+"/not-docker' (spec.secretRef)")

	secret(t, ns, "other-host", map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"ghcr.io":{"auth":"Zmx1eDp4"}}}`)})
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "other-host"} })
	refused("no credentials were sent", "has no entry for registry "+reg.host)

	secret(t, ns, "wrong", reg.dockerConfig("flux", "wrong-password"))
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "wrong"} })
	got := refused("credentials were sent and refused", "came from Secret '"+ns+"/wrong' (spec.secretRef)")
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.AuthenticationFailedReason, "Secret '"+ns+"/wrong'")

	secret(t, ns, "creds", reg.dockerConfig("flux", password))
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"} })
	good := waitRevision(t, obj, "v1@"+d)

	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "missing"} })
	got = refused("spec.secretRef", "failed to get secret '"+ns+"/missing'")
	if got.Status.Artifact.Digest != good.Status.Artifact.Digest || !served(t, got.Status.Artifact) {
		t.Errorf("the previous artifact is not served any more: %+v", got.Status.Artifact)
	}
}

// TestServiceAccountPullSecrets authenticates with the imagePullSecrets of
// spec.serviceAccountName, also under a cloud provider (credentials given:
// the provider is not needed); a cloud provider without any credentials
// stalls, saying what is missing and the way out.
func TestServiceAccountPullSecrets(t *testing.T) {
	reg := newRegistry(t, regOptions{user: "flux", password: "pw"})
	d := reg.pushFiles(t, "app", "v1", map[string]string{"v": "1"}, nil)
	ns := env.Namespace(t)
	secret(t, ns, "unrelated", map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"ghcr.io":{"auth":"Zmx1eDp4"}}}`)})
	secret(t, ns, "pull", reg.dockerConfig("flux", "pw"))
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "unrelated"}, {Name: "pull"}}}
	if err := kube.Create(context.Background(), sa); err != nil {
		t.Fatal(err)
	}
	ref := &sourcev1.OCIRepositoryRef{Tag: "v1"}
	obj := create(t, ns, "generic", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: ref, Insecure: true, ServiceAccountName: "puller"})
	waitRevision(t, obj, "v1@"+d)
	aws := create(t, ns, "aws", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: ref, Insecure: true, ServiceAccountName: "puller", Provider: sourcev1.AmazonOCIProvider})
	waitRevision(t, aws, "v1@"+d)

	for _, p := range []string{sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider} {
		obj := create(t, ns, "no-creds-"+p, sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: ref, Insecure: true, Provider: p})
		got := controllertest.WaitNotReady(t, kube, obj, sourcev1.InvalidProviderConfigurationReason)
		if !reconcile.IsTrue(got, meta.StalledCondition) {
			t.Errorf("%s: not stalled:\n%s", p, controllertest.Describe(got))
		}
		msg := condition(got, meta.ReadyCondition).Message
		for _, want := range []string{"provider '" + p + "'", "workload identity", "not built", "spec.secretRef", reg.url("app")} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q does not say %q", p, msg, want)
			}
		}
	}
	noSA := create(t, ns, "missing-sa", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: ref, Insecure: true, ServiceAccountName: "nobody"})
	got := controllertest.WaitNotReady(t, kube, noSA, sourcev1.AuthenticationFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "service account '"+ns+"/nobody'") {
		t.Errorf("message %q", msg)
	}
}

// TestTLS: a registry with a private CA is trusted with certSecretRef's
// ca.crt only; one requiring a client certificate gets tls.crt and tls.key;
// a plain HTTP registry needs insecure, and the messages say so.
func TestTLS(t *testing.T) {
	ns := env.Namespace(t)
	ref := &sourcev1.OCIRepositoryRef{Tag: "v1"}

	ca := testca.New("private CA")
	reg := newRegistry(t, regOptions{ca: ca})
	d := reg.pushFiles(t, "app", "v1", map[string]string{"v": "1"}, nil)
	untrusted := create(t, ns, "untrusted", sourcev1.OCIRepositorySpec{URL: reg.url("app"), Reference: ref})
	got := controllertest.WaitNotReady(t, kube, untrusted, sourcev1.OCIPullFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "unknown authority") || !strings.Contains(msg, reg.host) {
		t.Errorf("message %q", msg)
	}
	caOnly := secret(t, ns, "ca", map[string][]byte{"ca.crt": ca.CertPEM})
	controllertest.Update(t, kube, untrusted, func(o *sourcev1.OCIRepository) { o.Spec.CertSecretRef = caOnly })
	waitRevision(t, untrusted, "v1@"+d)

	clientCA := testca.New("client CA")
	mtls := newRegistry(t, regOptions{ca: ca, clientCA: clientCA})
	d = mtls.pushFiles(t, "app", "v1", map[string]string{"v": "mtls"}, nil)
	obj := create(t, ns, "mtls", sourcev1.OCIRepositorySpec{URL: mtls.url("app"), Reference: ref, CertSecretRef: caOnly})
	got = controllertest.WaitNotReady(t, kube, obj, sourcev1.OCIPullFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "client certificate") {
		t.Errorf("message %q", msg)
	}
	client := clientCA.Client("registry client")
	crt, key := client.CertPEM, client.KeyPEM
	full := secret(t, ns, "client", map[string][]byte{"ca.crt": ca.CertPEM, "tls.crt": crt, "tls.key": key})
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.CertSecretRef = full })
	if got := waitRevision(t, obj, "v1@"+d); controllertest.ArtifactFiles(t, got.Status.Artifact)["v"] != "mtls" {
		t.Error("wrong content over mutual TLS")
	}

	plain := newRegistry(t, regOptions{})
	d = plain.pushFiles(t, "app", "v1", map[string]string{"v": "plain"}, nil)
	obj = create(t, ns, "plain", sourcev1.OCIRepositorySpec{URL: plain.url("app"), Reference: ref})
	got = controllertest.WaitNotReady(t, kube, obj, sourcev1.OCIPullFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "insecure") || !strings.Contains(msg, plain.host) {
		t.Errorf("message %q", msg)
	}
	controllertest.Update(t, kube, obj, func(o *sourcev1.OCIRepository) { o.Spec.Insecure = true })
	waitRevision(t, obj, "v1@"+d)
}

// TestTokenAuthThroughAProxy: the real registry behind the token flow that
// public registries use, with credentials from spec.secretRef, reached
// through an HTTP proxy named by spec.proxySecretRef that counts what it
// forwards.
func TestTokenAuthThroughAProxy(t *testing.T) {
	real := ocitest.Start(t, ocitest.Options{Auth: ocitest.TokenAuth})
	reg := &testRegistry{host: real.Host, transport: &http.Transport{},
		auth: &authn.Basic{Username: real.Username, Password: real.Password}}
	d := reg.pushFiles(t, "private/app", "v1", map[string]string{"v": "token"}, nil)

	var forwarded atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodConnect || !req.URL.IsAbs() {
			http.Error(w, "a forward proxy for plain HTTP only", http.StatusMethodNotAllowed)
			return
		}
		forwarded.Add(1)
		out := req.Clone(req.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)

	ns := env.Namespace(t)
	creds := secret(t, ns, "creds", map[string][]byte{".dockerconfigjson": real.DockerConfigJSON()})
	viaProxy := secret(t, ns, "proxy", map[string][]byte{"address": []byte(proxy.URL)})
	obj := create(t, ns, "app", sourcev1.OCIRepositorySpec{URL: reg.url("private/app"), Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"},
		Insecure: true, SecretRef: creds, ProxySecretRef: viaProxy})
	got := waitRevision(t, obj, "v1@"+d)
	if controllertest.ArtifactFiles(t, got.Status.Artifact)["v"] != "token" {
		t.Error("wrong content through the proxy")
	}
	if forwarded.Load() == 0 {
		t.Error("the proxy forwarded nothing: the controller went to the registry directly")
	}
	if len(real.TokenServer.Requests()) == 0 {
		t.Error("the token server issued no token")
	}
}
