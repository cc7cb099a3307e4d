package webhook_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/engine/webhook"
)

// issuer is an in-test OIDC issuer: discovery, a JWKS and a signing key.
type issuer struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	kid     string
	fetches atomic.Int32
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, kid: "test-key"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		is.fetches.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": is.kid, "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// token signs claims with key (the issuer's unless another is given).
func (is *issuer) token(t *testing.T, claims map[string]any, key *rsa.PrivateKey, alg string) string {
	t.Helper()
	if key == nil {
		key = is.key
	}
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": is.kid, "typ": "JWT"})
	p, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestGenericOIDC(t *testing.T) {
	is := newIssuer(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	p, err := webhook.CompileOIDCProvider(is.srv.URL, "notification-controller",
		[]webhook.OIDCVariable{{Name: "repo", Expression: "claims.repository"}},
		[]webhook.OIDCValidation{{Expression: "vars.repo == 'org/app'", Message: "only org/app may call"}})
	if err != nil {
		t.Fatal(err)
	}
	keys := &webhook.Keys{}
	cfg := webhook.Config{Type: "generic-oidc", OIDC: []*webhook.OIDCProvider{p}, Keys: keys}
	now := time.Now().Unix()
	good := map[string]any{"iss": is.srv.URL, "aud": "notification-controller", "exp": now + 300, "repository": "org/app", "sub": "repo:org/app"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for a, b := range good {
			c[a] = b
		}
		c[k] = v
		return c
	}
	cases := []struct {
		name, auth, reason string
	}{
		{"genuine", "Bearer " + is.token(t, good, nil, "RS256"), ""},
		{"audience in a list", "Bearer " + is.token(t, with("aud", []string{"x", "notification-controller"}), nil, "RS256"), ""},
		{"signed by another key", "Bearer " + is.token(t, good, other, "RS256"), "signature is not valid"},
		{"expired", "Bearer " + is.token(t, with("exp", now-3600), nil, "RS256"), "expired"},
		{"other audience", "Bearer " + is.token(t, with("aud", "someone-else"), nil, "RS256"), "audience"},
		{"untrusted issuer", "Bearer " + is.token(t, with("iss", "https://evil.example"), nil, "RS256"), "not one of spec.oidcProviders"},
		{"validation fails", "Bearer " + is.token(t, with("repository", "org/other"), nil, "RS256"), "only org/app may call"},
		{"variable fails", "Bearer " + is.token(t, with("repository", nil), nil, "RS256"), "only org/app may call"},
		{"alg none", "Bearer " + strings.Join(strings.Split(is.token(t, good, nil, "none"), ".")[:2], ".") + ".", "only RS256"},
		{"no bearer", "", "Bearer ID token"},
		{"not a JWT", "Bearer abc", "not a JWT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := webhook.Check(context.Background(), cfg, webhook.Request{Header: hdr("Authorization", tc.auth), Body: []byte(`{"a":1}`)})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Claims["sub"] != "repo:org/app" {
					t.Fatalf("claims %v", res.Claims)
				}
				return
			}
			if err == nil || webhook.StatusOf(err) != http.StatusBadRequest || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want a 400 saying %q", err, tc.reason)
			}
		})
	}
	if n := is.fetches.Load(); n != 1 {
		t.Errorf("the JWKS was fetched %d times for one key; want it cached", n)
	}
}

func TestCompileOIDCProvider(t *testing.T) {
	if _, err := webhook.CompileOIDCProvider("https://x", "a", nil, nil); err == nil || !strings.Contains(err.Error(), "no validations") {
		t.Fatalf("no validations: %v", err)
	}
	_, err := webhook.CompileOIDCProvider("https://x", "a", nil, []webhook.OIDCValidation{{Expression: "claims.sub + 1", Message: "m"}})
	if err == nil || !strings.Contains(err.Error(), "validations[0]") {
		t.Fatalf("bad validation: %v", err)
	}
}

func TestGCR(t *testing.T) {
	is := newIssuer(t)
	keys := &webhook.Keys{GoogleURL: is.srv.URL + "/keys"}
	cfg := webhook.Config{Type: "gcr", Keys: keys, GCR: webhook.GCR{Email: "pusher@proj.iam.gserviceaccount.com", Audience: "https://flux.example/hook/x"}}
	now := time.Now().Unix()
	claims := func(mut func(map[string]any)) string {
		c := map[string]any{"iss": "https://accounts.google.com", "aud": cfg.GCR.Audience, "exp": now + 300,
			"email": cfg.GCR.Email, "email_verified": true}
		if mut != nil {
			mut(c)
		}
		return "Bearer " + is.token(t, c, nil, "RS256")
	}
	data := base64.StdEncoding.EncodeToString([]byte(`{"action":"INSERT","digest":"gcr.io/proj/app@sha256:0","tag":"gcr.io/proj/app:1.0.0"}`))
	push := []byte(`{"message":{"data":"` + data + `","messageId":"1"},"subscription":"projects/proj/subscriptions/flux"}`)
	cases := []struct {
		name, auth string
		body       []byte
		reason     string
	}{
		{"genuine", claims(nil), push, ""},
		{"other account", claims(func(c map[string]any) { c["email"] = "evil@proj.iam.gserviceaccount.com" }), push, "service account"},
		{"unverified email", claims(func(c map[string]any) { c["email_verified"] = false }), push, "not verified"},
		{"other audience", claims(func(c map[string]any) { c["aud"] = "https://other" }), push, "audience"},
		{"not Google", claims(func(c map[string]any) { c["iss"] = "https://evil.example" }), push, "not trusted"},
		{"not a push", claims(nil), []byte(`{}`), "message.data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.Check(context.Background(), cfg, webhook.Request{Header: hdr("Authorization", tc.auth), Body: tc.body})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want %q", err, tc.reason)
			}
		})
	}
	noSecret := cfg
	noSecret.GCR = webhook.GCR{}
	if _, err := webhook.Check(context.Background(), noSecret, webhook.Request{Header: hdr("Authorization", claims(nil)), Body: push}); err == nil ||
		!strings.Contains(err.Error(), "'email' and 'audience'") {
		t.Fatalf("a Secret without email and audience: %v", err)
	}
}

// A key that cannot be fetched refuses the token without telling the
// caller why (an address inside the network, say): that is for the log.
func TestKeyFetchFailureStaysInTheLog(t *testing.T) {
	keys := &webhook.Keys{GoogleURL: "http://127.0.0.1:1/internal-keys"}
	is := newIssuer(t)
	cfg := webhook.Config{Type: "gcr", Keys: keys, GCR: webhook.GCR{Email: "a@b", Audience: "x"}}
	tok := is.token(t, map[string]any{"iss": "https://accounts.google.com", "aud": "x", "exp": time.Now().Unix() + 60}, nil, "RS256")
	_, err := webhook.Check(context.Background(), cfg, webhook.Request{Header: hdr("Authorization", "Bearer "+tok), Body: []byte("{}")})
	var we *webhook.Error
	if !errors.As(err, &we) || we.Status != http.StatusBadRequest {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(we.Reason, "127.0.0.1") || !strings.Contains(we.Detail, "127.0.0.1") {
		t.Fatalf("reason %q, detail %q: the address belongs in the detail only", we.Reason, we.Detail)
	}
}
