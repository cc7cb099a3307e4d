package receiver_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

// oidcIssuer serves OpenID discovery and a JWKS with a key made here.
func oidcIssuer(t *testing.T) (url string, sign func(claims map[string]any) string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, func(claims map[string]any) string {
		h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1"})
		p, _ := json.Marshal(claims)
		signed := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
		sum := sha256.Sum256([]byte(signed))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + signed + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
}

// A generic-oidc Receiver has no Secret: its path hashes name and
// namespace; a token from the issuer that passes the validations
// annotates, and the claims reach resourceFilter.
func TestGenericOIDCReceiver(t *testing.T) {
	ns := namespace(t, "")
	issuer, sign := oidcIssuer(t)
	gitRepository(t, ns, "app", nil)
	gitRepository(t, ns, "other", nil)
	obj := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Name: "ci", Namespace: ns},
		Spec: notificationv1.ReceiverSpec{
			Type: "generic-oidc",
			OIDCProviders: []notificationv1.OIDCProvider{{
				IssuerURL:   issuer,
				Variables:   []notificationv1.OIDCVariable{{Name: "org", Expression: "claims.repository.split('/')[0]"}},
				Validations: []notificationv1.OIDCValidation{{Expression: "vars.org == 'myorg'", Message: "only myorg's pipelines"}},
			}},
			ResourceFilter: "claims.repository.endsWith('/' + res.metadata.name)",
			Resources: []notificationv1.ReceiverResource{
				{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app"}},
				{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "other"}},
			},
		},
	}
	path := ready(t, createReceiver(t, obj))
	if want := fmt.Sprintf("/hook/%x", sha256.Sum256([]byte("ci"+ns))); path != want {
		t.Fatalf("path %q, want %q", path, want)
	}
	claims := map[string]any{"iss": issuer, "aud": "notification-controller", "exp": time.Now().Add(5 * time.Minute).Unix(), "repository": "evilorg/app"}
	expect(t, postSeen(t, addr, path, []byte("{}"), "Authorization", sign(claims)), 400, "only myorg's pipelines")
	claims["aud"] = "someone-else"
	claims["repository"] = "myorg/app"
	expect(t, post(t, addr, path, []byte("{}"), "Authorization", sign(claims)), 400, "audience")
	if v := requestedAt(t, ns, "app"); v != "" {
		t.Fatalf("annotated by a refused token: %q", v)
	}
	claims["aud"] = "notification-controller"
	expect(t, post(t, addr, path, []byte("{}"), "Authorization", sign(claims)), 200, "accepted")
	waitAnnotated(t, ns, "app", "")
	if v := requestedAt(t, ns, "other"); v != "" {
		t.Fatalf("resourceFilter over claims did not keep 'other' out: %q", v)
	}
}

func TestGenericOIDCInvalidValidationStalls(t *testing.T) {
	ns := namespace(t, "")
	obj := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Name: "ci", Namespace: ns},
		Spec: notificationv1.ReceiverSpec{
			Type: "generic-oidc",
			OIDCProviders: []notificationv1.OIDCProvider{{IssuerURL: "https://issuer.example",
				Validations: []notificationv1.OIDCValidation{{Expression: "claims.sub ==", Message: "m"}}}},
			Resources: []notificationv1.ReceiverResource{{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app"}}},
		},
	}
	createReceiver(t, obj)
	got := controllertest.WaitNotReady(t, kube, obj, meta.InvalidCELExpressionReason)
	if c := reconcile.Get(got, meta.StalledCondition); c == nil || !strings.Contains(c.Message, "spec.oidcProviders[0]") {
		t.Fatalf("Stalled: %+v", c)
	}
}
