package provider

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
	"github.com/driftless/driftless/internal/testkit/testca"
)

const ns = "flux-system"

// captured is a notifier that only remembers its settings.
type captured struct{ s notifier.Settings }

func (c *captured) Post(context.Context, eventv1.Event) error { return nil }

// resolver returns a Resolver over objs and counts the notifiers it builds.
func resolver(t *testing.T, objs ...client.Object) (*Resolver, *int, client.Client) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	builds := 0
	return &Resolver{Reader: c, New: func(s notifier.Settings) (notifier.Notifier, error) {
		builds++
		return &captured{s: s}, nil
	}}, &builds, c
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func provider(spec v1beta3.ProviderSpec) *v1beta3.Provider {
	return &v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "slack", Namespace: ns, UID: "8d9e1f2a-0000-4000-8000-000000000001", Generation: 1},
		Spec: spec}
}

func alert() *v1beta3.Alert {
	return &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "on-call", Namespace: ns, UID: "a1", Generation: 3}}
}

func ref(name string) *meta.LocalObjectReference { return &meta.LocalObjectReference{Name: name} }

func settingsOf(t *testing.T, r *Resolver, p *v1beta3.Provider) (notifier.Settings, error) {
	t.Helper()
	n, err := r.Notifier(context.Background(), alert(), p)
	if err != nil {
		return notifier.Settings{}, err
	}
	return n.(*captured).s, nil
}

// Every key of secretRef lands in the settings, overriding the spec.
func TestSecretKeys(t *testing.T) {
	r, _, _ := resolver(t, secret("slack-secret", map[string]string{
		"address":                 "https://hooks.slack.com/services/T0/B0/XXXX",
		"token":                   " xoxb-secret \n",
		"username":                "bot",
		"password":                "pw",
		"headers":                 "X-Team: platform\nAuthorization: Bearer abc\n",
		"githubAppID":             "123",
		"githubAppInstallationID": "456",
		"githubAppPrivateKey":     "-----BEGIN RSA PRIVATE KEY-----",
	}))
	s, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "slack", Address: "https://spec.example.com/", Channel: "#flux-events",
		Username: "flux", SecretRef: ref("slack-secret"), Timeout: &metav1.Duration{Duration: 7 * time.Second}}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != "slack" || s.Address != "https://hooks.slack.com/services/T0/B0/XXXX" || !s.AddressFromSecret ||
		s.Channel != "#flux-events" || s.Username != "bot" || s.Token != "xoxb-secret" || s.Password != "pw" ||
		s.ProviderUID != "8d9e1f2a-0000-4000-8000-000000000001" {
		t.Errorf("settings %+v", s)
	}
	if s.Headers["X-Team"] != "platform" || s.Headers["Authorization"] != "Bearer abc" || len(s.Headers) != 2 {
		t.Errorf("headers %v", s.Headers)
	}
	if string(s.Secret["githubAppID"]) != "123" || string(s.Secret["githubAppPrivateKey"]) == "" || len(s.Secret) != 8 {
		t.Errorf("the whole Secret is not passed: %v keys", len(s.Secret))
	}
	if s.Client == nil || s.Client.Timeout != 7*time.Second {
		t.Errorf("client %+v", s.Client)
	}
	if s.CommitStatus != nil {
		t.Error("a commit-status function without commitStatusExpr")
	}
}

func TestSpecOnlyDefaults(t *testing.T) {
	r, _, _ := resolver(t)
	s, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "generic", Address: "https://hooks.example.com/flux", Channel: "c", Username: "u"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.AddressFromSecret || s.Address != "https://hooks.example.com/flux" || s.Username != "u" || s.Client.Timeout != 15*time.Second {
		t.Errorf("settings %+v", s)
	}
}

// Bad settings: each error names the field or key, never a value.
func TestBadSettings(t *testing.T) {
	long := "https://hooks.example.com/" + strings.Repeat("s3cr3t", 400)
	for name, c := range map[string]struct {
		spec    v1beta3.ProviderSpec
		secrets []client.Object
		says    string
	}{
		"spec address too long":  {spec: v1beta3.ProviderSpec{Type: "generic", Address: long}, says: "spec.address: the address is longer than 2048 bytes"},
		"spec address not a URL": {spec: v1beta3.ProviderSpec{Type: "generic", Address: "hooks s3cr3t"}, says: "spec.address: the address is not an absolute URL"},
		"address with credentials and no host": {spec: v1beta3.ProviderSpec{Type: "generic", Address: "https://user:s3cr3t@/hook"},
			says: "spec.address"},
		"address from Secret not a URL": {spec: v1beta3.ProviderSpec{Type: "slack", SecretRef: ref("s")},
			secrets: []client.Object{secret("s", map[string]string{"address": "s3cr3t-webhook"})}, says: "key address: the address is not an absolute URL"},
		"address from Secret too long": {spec: v1beta3.ProviderSpec{Type: "slack", SecretRef: ref("s")},
			secrets: []client.Object{secret("s", map[string]string{"address": long})}, says: "key address: the address is longer than 2048 bytes"},
		"Secret missing": {spec: v1beta3.ProviderSpec{Type: "slack", SecretRef: ref("gone")},
			says: "spec.secretRef: Secret flux-system/gone not found"},
		"headers not YAML": {spec: v1beta3.ProviderSpec{Type: "generic", SecretRef: ref("s")},
			secrets: []client.Object{secret("s", map[string]string{"headers": "- s3cr3t\n- list"})}, says: "key headers: not a YAML map"},
		"header injection": {spec: v1beta3.ProviderSpec{Type: "generic", SecretRef: ref("s")},
			secrets: []client.Object{secret("s", map[string]string{"headers": "X-A: \"s3cr3t\\r\\nX-Evil: 1\""})}, says: "line break"},
		"cloud identity": {spec: v1beta3.ProviderSpec{Type: "azuredevops", Address: "https://dev.azure.com/org/proj/_git/repo"},
			says: "workload identity, which is not supported yet"},
		"service account": {spec: v1beta3.ProviderSpec{Type: "googlepubsub", ServiceAccountName: "sa"}, says: "spec.serviceAccountName: workload identity is not supported yet"},
		"proxy not a URL": {spec: v1beta3.ProviderSpec{Type: "generic", Proxy: "s3cr3t proxy"}, says: "spec.proxy: the proxy"},
		"deprecated proxy key": {spec: v1beta3.ProviderSpec{Type: "generic", SecretRef: ref("s")},
			secrets: []client.Object{secret("s", map[string]string{"proxy": "ftp://s3cr3t@proxy"})}, says: "key proxy: the proxy URL must be"},
		"proxySecretRef without address": {spec: v1beta3.ProviderSpec{Type: "generic", ProxySecretRef: ref("p")},
			secrets: []client.Object{secret("p", map[string]string{"username": "s3cr3t"})}, says: "has no key address"},
		"proxy user without password": {spec: v1beta3.ProviderSpec{Type: "generic", ProxySecretRef: ref("p")},
			secrets: []client.Object{secret("p", map[string]string{"address": "http://proxy:3128", "username": "s3cr3t"})}, says: "needs both keys username and password"},
		"CA not PEM": {spec: v1beta3.ProviderSpec{Type: "generic", CertSecretRef: ref("c")},
			secrets: []client.Object{secret("c", map[string]string{"ca.crt": "s3cr3t"})}, says: "key ca.crt: no PEM certificate"},
		"cert without key": {spec: v1beta3.ProviderSpec{Type: "generic", CertSecretRef: ref("c")},
			secrets: []client.Object{secret("c", map[string]string{"tls.crt": "s3cr3t"})}, says: "needs both keys tls.crt and tls.key"},
		"cert Secret empty": {spec: v1beta3.ProviderSpec{Type: "generic", CertSecretRef: ref("c")},
			secrets: []client.Object{secret("c", nil)}, says: "has none of the keys"},
		"CEL does not compile": {spec: v1beta3.ProviderSpec{Type: "github", CommitStatusExpr: "event.("}, says: "spec.commitStatusExpr: CEL expression does not compile"},
		"CEL not a string":     {spec: v1beta3.ProviderSpec{Type: "github", CommitStatusExpr: "1 + 2"}, says: "spec.commitStatusExpr: CEL expression returns int, not a string"},
	} {
		t.Run(name, func(t *testing.T) {
			r, builds, _ := resolver(t, c.secrets...)
			_, err := settingsOf(t, r, provider(c.spec))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "Provider flux-system/slack") {
				t.Errorf("error %q does not say %q", err, c.says)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks a value: %q", err)
			}
			if *builds != 0 {
				t.Error("a notifier was built")
			}
		})
	}
}

// The non-URL addresses of googlepubsub and azureeventhub are taken.
func TestAddressNotAURLForSomeTypes(t *testing.T) {
	r, _, _ := resolver(t, secret("gcp", map[string]string{"token": "{}"}))
	if _, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "googlepubsub", Address: "my-project", SecretRef: ref("gcp")})); err != nil {
		t.Error(err)
	}
}

// A notifier is built once per Provider generation, Alert generation and
// Secret version.
func TestNotifierCache(t *testing.T) {
	r, builds, c := resolver(t, secret("s", map[string]string{"token": "t1"}))
	p := provider(v1beta3.ProviderSpec{Type: "generic", Address: "https://h.example.com/", SecretRef: ref("s")})
	ctx := context.Background()
	first, err := r.Notifier(ctx, alert(), p)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := r.Notifier(ctx, alert(), p)
	if *builds != 1 || first != again {
		t.Errorf("%d builds for the same versions", *builds)
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "s"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data["token"] = []byte("t2")
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	rotated, _ := r.Notifier(ctx, alert(), p)
	if *builds != 2 || rotated.(*captured).s.Token != "t2" {
		t.Errorf("a rotated token is not read: %d builds", *builds)
	}
	p.Generation = 2
	_, _ = r.Notifier(ctx, alert(), p)
	if *builds != 3 {
		t.Errorf("a new generation is not rebuilt: %d builds", *builds)
	}
	r.Forget(p.UID)
	_, _ = r.Notifier(ctx, alert(), p)
	if *builds != 4 {
		t.Errorf("a forgotten Provider is not rebuilt: %d builds", *builds)
	}
}

// Secrets must not be changed by what the resolver hands out.
func TestSecretDataIsCopied(t *testing.T) {
	r, _, c := resolver(t, secret("s", map[string]string{"token": "t1"}))
	s, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "generic", Address: "https://h.example.com/", SecretRef: ref("s")}))
	if err != nil {
		t.Fatal(err)
	}
	s.Secret["token"] = []byte("changed")
	got := &corev1.Secret{}
	_ = c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "s"}, got)
	if string(got.Data["token"]) != "t1" {
		t.Error("the settings share the Secret's data")
	}
}

// The proxy of proxySecretRef, with its credentials, carries the requests.
func TestProxySecretRef(t *testing.T) {
	seen := make(chan *http.Request, 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		_, _ = io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	r, _, _ := resolver(t,
		secret("p", map[string]string{"address": proxy.URL, "username": "proxyuser", "password": "proxypass"}),
		secret("s", map[string]string{"proxy": "http://ignored.invalid:1"}))
	s, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "generic", Address: "http://hooks.example.invalid/flux",
		ProxySecretRef: ref("p"), SecretRef: ref("s"), Proxy: "http://ignored-too.invalid:1"}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Get("http://hooks.example.invalid/flux")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	req := <-seen
	if req.URL.String() != "http://hooks.example.invalid/flux" {
		t.Errorf("the proxy got %s", req.URL)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("proxyuser:proxypass"))
	if req.Header.Get("Proxy-Authorization") != want {
		t.Errorf("Proxy-Authorization %q", req.Header.Get("Proxy-Authorization"))
	}
}

// The deprecated spec.proxy and the Secret's proxy key still work.
func TestDeprecatedProxy(t *testing.T) {
	seen := make(chan string, 2)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.URL.String() }))
	defer proxy.Close()
	r, _, _ := resolver(t, secret("s", map[string]string{"proxy": proxy.URL}))
	for _, spec := range []v1beta3.ProviderSpec{
		{Type: "generic", Address: "http://a.invalid/", Proxy: proxy.URL},
		{Type: "generic", Address: "http://b.invalid/", SecretRef: ref("s"), Proxy: "http://ignored.invalid:1"},
	} {
		s, err := settingsOf(t, r, provider(spec))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.Client.Get(spec.Address)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := <-seen; got != spec.Address {
			t.Errorf("the proxy got %s, want %s", got, spec.Address)
		}
	}
}

// ca.crt trusts the server's CA, tls.crt/tls.key authenticate the client
// to a server that requires a client certificate.
func TestCertSecretRefMutualTLS(t *testing.T) {
	ca := testca.New("provider-ca")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server("127.0.0.1").TLSCertificate()},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	srv.StartTLS()
	defer srv.Close()
	client := ca.Client("driftless-notifier")

	r, _, _ := resolver(t,
		secret("mtls", map[string]string{"ca.crt": string(ca.CertPEM), "tls.crt": string(client.CertPEM), "tls.key": string(client.KeyPEM)}),
		secret("ca-only", map[string]string{"ca.crt": string(ca.CertPEM)}))
	s, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "generic", Address: srv.URL, CertSecretRef: ref("mtls")}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "driftless-notifier" {
		t.Errorf("the server saw %q", body)
	}

	p := provider(v1beta3.ProviderSpec{Type: "generic", Address: srv.URL, CertSecretRef: ref("ca-only")})
	p.UID = "other"
	s, err = settingsOf(t, r, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.Get(srv.URL); err == nil {
		t.Error("a client without a certificate got through")
	}
	r2, _, _ := resolver(t)
	s, _ = settingsOf(t, r2, provider(v1beta3.ProviderSpec{Type: "generic", Address: srv.URL}))
	if _, err := s.Client.Get(srv.URL); err == nil {
		t.Error("the server's CA is trusted without ca.crt")
	}
}

// A redirect to another host is not followed: the token stays home.
func TestNoRedirectToAnotherHost(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("followed to another host") }))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/steal", http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	r, _, _ := resolver(t)
	s, _ := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "generic", Address: first.URL}))
	_, err := s.Client.Post(first.URL, "application/json", strings.NewReader("{}"))
	if err == nil || !strings.Contains(err.Error(), "redirect to another host") {
		t.Errorf("error %v", err)
	}
}

func TestCommitStatusExpr(t *testing.T) {
	event := eventv1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "apps", Namespace: ns},
		Metadata: map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"}}
	big := "[" + strings.TrimSuffix(strings.Repeat("0,", 200), ",") + "]"
	for name, c := range map[string]struct {
		expr, want, fails string
	}{
		"good": {expr: `"%s/%s/%s".format([event.involvedObject.kind, event.involvedObject.name, provider.metadata.uid.split("-")[0]]).lowerAscii() + "/" + alert.metadata.name`,
			want: "kustomization/apps/8d9e1f2a/on-call"},
		"failing":    {expr: `event.metadata["missing"]`, fails: "commitStatusExpr failed: no such key"},
		"non-string": {expr: `alert.metadata.generation`, fails: "commitStatusExpr returned int, not a string"},
		"empty":      {expr: `""`, fails: "a key of 0 bytes"},
		"too costly": {expr: big + `.map(a, ` + big + `.map(b, ` + big + `.map(c, a + b + c))).size() > 0 ? "x" : "y"`, fails: "cost limit|took longer than 1s"},
	} {
		t.Run(name, func(t *testing.T) {
			r, _, _ := resolver(t)
			s, err := settingsOf(t, r, provider(v1beta3.ProviderSpec{Type: "github", Address: "https://github.com/org/repo", CommitStatusExpr: c.expr}))
			if err != nil {
				t.Fatal(err)
			}
			if s.CommitStatus == nil {
				t.Fatal("no commit-status function")
			}
			key, err := s.CommitStatus(event)
			if c.fails != "" {
				if err == nil || !regexp.MustCompile(c.fails).MatchString(err.Error()) || key != "" {
					t.Errorf("key %q, error %v; want an error saying %q and no key", key, err, c.fails)
				}
				return
			}
			if err != nil || key != c.want {
				t.Errorf("key %q, error %v; want %q", key, err, c.want)
			}
		})
	}
}

// The expression is compiled once per Provider generation.
func TestCommitStatusExprCompiledOncePerGeneration(t *testing.T) {
	r, _, _ := resolver(t)
	p := provider(v1beta3.ProviderSpec{Type: "github", Address: "https://github.com/org/repo", CommitStatusExpr: `"k"`})
	a, err := r.compiled(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.compiled(p)
	if a != b {
		t.Error("compiled twice for one generation")
	}
	p.Generation++
	p.Spec.CommitStatusExpr = `"k2"`
	c, _ := r.compiled(p)
	if c == a {
		t.Error("a new generation reuses the old expression")
	}
}
