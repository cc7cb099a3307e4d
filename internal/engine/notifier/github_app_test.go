package notifier

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// appFake answers the installation-token call of a GitHub App, checking
// the JWT's RS256 signature against the App's public key and its iss.
type appFake struct {
	t       *testing.T
	key     *rsa.PublicKey
	appID   string
	now     func() time.Time
	issued  int
	expires time.Time
}

func (a *appFake) tokens(r recorded) (int, string) {
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return http.StatusUnauthorized, `{"message":"no JWT"}`
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return http.StatusUnauthorized, `{"message":"not a JWT"}`
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(a.key, crypto.SHA256, digest[:], sig) != nil {
		return http.StatusUnauthorized, `{"message":"bad signature"}`
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var h struct{ Alg string }
	var claims struct {
		Iss      string
		Iat, Exp int64
	}
	if json.Unmarshal(header, &h) != nil || h.Alg != "RS256" || json.Unmarshal(payload, &claims) != nil {
		return http.StatusUnauthorized, `{"message":"bad JWT"}`
	}
	now := a.now().Unix()
	if claims.Iss != a.appID || claims.Iat > now || claims.Exp <= now || claims.Exp-claims.Iat > 600 {
		a.t.Errorf("JWT claims %+v at %d", claims, now)
		return http.StatusUnauthorized, `{"message":"bad claims"}`
	}
	a.issued++
	a.expires = a.now().Add(time.Hour)
	return http.StatusCreated, `{"token":"ghs_install` + itoa(a.issued) + `","expires_at":"` + a.expires.Format(time.RFC3339) + `"}`
}

// newAppKey is an RSA key and its PEM form (PKCS#1, or PKCS#8).
func newAppKey(t *testing.T, pkcs8 bool) (*rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return key, pem.EncodeToMemory(block)
}

// appNotifier is a github notifier with App auth against the fake, with
// its clock set.
func appNotifier(t *testing.T, f *gitFake, secret map[string][]byte, clock func() time.Time) Notifier {
	t.Helper()
	n, err := New(Settings{Type: "github", Address: f.URL + "/org/repo", Secret: secret, ProviderUID: testProviderUID})
	if err != nil {
		t.Fatal(err)
	}
	n.(*statusNotifier).host.(githubHost).api.app.now = clock
	return n
}

// An App's installation token is bought with a signed JWT, used for the
// API calls and kept until shortly before it expires.
func TestGitHubAppAuth(t *testing.T) {
	for _, c := range []struct {
		name   string
		pkcs8  bool
		secret map[string][]byte
		lookup string // the installation lookup path, if any
		found  string // and its answer
		tokens string
	}{
		{name: "installation id", secret: map[string][]byte{githubAppInstallationIDKey: []byte("42")},
			tokens: "/api/v3/app/installations/42/access_tokens"},
		{name: "installation owner", pkcs8: true, secret: map[string][]byte{githubAppInstallationOwnerKey: []byte("org")},
			lookup: "/api/v3/app/installations", found: `[{"id":76,"account":{"login":"someone"}},{"id":77,"account":{"login":"Org"}}]`, tokens: "/api/v3/app/installations/77/access_tokens"},
		{name: "repository installation", secret: map[string][]byte{},
			lookup: "/api/v3/repos/org/repo/installation", found: `{"id":77}`, tokens: "/api/v3/app/installations/77/access_tokens"},
		{name: "base URL", secret: map[string][]byte{githubAppInstallationIDKey: []byte("42"), githubAppBaseURLKey: []byte("BASE/ghe/api/v3/")},
			tokens: "/ghe/api/v3/app/installations/42/access_tokens"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newGitFake(t)
			key, pemKey := newAppKey(t, c.pkcs8)
			now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			app := &appFake{t: t, key: &key.PublicKey, appID: "123", now: clock}
			f.on(http.MethodPost, c.tokens, app.tokens)
			if c.lookup != "" {
				f.answer(http.MethodGet, c.lookup, http.StatusOK, c.found)
			}
			sc := statusCases()[0]
			sc.serve(t, f, sc, &statusList{})
			secret := map[string][]byte{githubAppIDKey: []byte("123"), githubAppPrivateKeyKey: pemKey}
			for k, v := range c.secret {
				secret[k] = []byte(strings.ReplaceAll(string(v), "BASE", f.URL))
			}
			n := appNotifier(t, f, secret, clock)

			ctx := context.Background()
			if err := n.Post(ctx, appliedEvent()); err != nil {
				t.Fatal(err)
			}
			if err := n.Post(ctx, testEvent(eventv1.EventSeverityError)); err != nil {
				t.Fatal(err)
			}
			if app.issued != 1 {
				t.Fatalf("%d installation tokens bought for two posts within the hour, want 1", app.issued)
			}
			for _, r := range append(f.to(http.MethodGet, sc.listPath), f.to(http.MethodPost, sc.postPath)...) {
				if got := r.Header.Get("Authorization"); got != "Bearer ghs_install1" {
					t.Errorf("%s %s with %q, want the installation token", r.Method, r.Path, got)
				}
			}
			if len(f.to(http.MethodPost, sc.postPath)) != 2 {
				t.Fatalf("statuses %v", f.all())
			}

			now = now.Add(56 * time.Minute) // within five minutes of expiry
			e := testEvent(eventv1.EventSeverityError)
			e.Message = "another failure"
			if err := n.Post(ctx, e); err != nil {
				t.Fatal(err)
			}
			posts := f.to(http.MethodPost, sc.postPath)
			if app.issued != 2 || posts[len(posts)-1].Header.Get("Authorization") != "Bearer ghs_install2" {
				t.Errorf("the token was not renewed before expiry (%d issued)", app.issued)
			}
		})
	}
}

// A refused JWT does not show in the error, nor does the key.
func TestGitHubAppErrors(t *testing.T) {
	f := newGitFake(t)
	_, pemKey := newAppKey(t, false)
	f.on(http.MethodPost, "/api/v3/app/installations/42/access_tokens", func(r recorded) (int, string) {
		return http.StatusUnauthorized, `{"message":"bad JWT ` + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + `"}`
	})
	secret := map[string][]byte{githubAppIDKey: []byte("123"), githubAppPrivateKeyKey: pemKey, githubAppInstallationIDKey: []byte("42")}
	n := appNotifier(t, f, secret, time.Now)
	err := n.Post(context.Background(), testEvent(eventv1.EventSeverityError))
	if err == nil || !strings.Contains(err.Error(), "installation token") {
		t.Fatalf("error %v", err)
	}
	jwt := strings.TrimPrefix(f.all()[0].Header.Get("Authorization"), "Bearer ")
	if strings.Contains(err.Error(), jwt) || strings.Contains(err.Error(), strings.Split(jwt, ".")[2]) {
		t.Errorf("error carries the JWT: %v", err)
	}

	g := newGitFake(t)
	g.answer(http.MethodGet, "/api/v3/app/installations", http.StatusOK, `[{"id":76,"account":{"login":"someone"}}]`)
	secret = map[string][]byte{githubAppIDKey: []byte("123"), githubAppPrivateKeyKey: pemKey, githubAppInstallationOwnerKey: []byte("org")}
	err = appNotifier(t, g, secret, time.Now).Post(context.Background(), testEvent(eventv1.EventSeverityError))
	var notInstalled *PermanentError
	if !errors.As(err, &notInstalled) || !strings.Contains(err.Error(), "no installation on org") {
		t.Errorf("owner without installation: %v", err)
	}
	if len(g.to(http.MethodPost, "/api/v3/repos/org/repo/statuses/"+testSHA)) != 0 {
		t.Errorf("a status was posted without a token")
	}

	for name, s := range map[string]map[string][]byte{
		"id without key":   {githubAppIDKey: []byte("123")},
		"key not PEM":      {githubAppIDKey: []byte("123"), githubAppPrivateKeyKey: []byte("not-a-key-SECRETBYTES")},
		"id not a number":  {githubAppIDKey: []byte("12a"), githubAppPrivateKeyKey: pemKey},
		"bad installation": {githubAppIDKey: []byte("1"), githubAppPrivateKeyKey: pemKey, githubAppInstallationIDKey: []byte("../x")},
		"bad owner":        {githubAppIDKey: []byte("1"), githubAppPrivateKeyKey: pemKey, githubAppInstallationOwnerKey: []byte("a/../b")},
		"base with query":  {githubAppIDKey: []byte("1"), githubAppPrivateKeyKey: pemKey, githubAppBaseURLKey: []byte("https://h/api?x=1")},
		"base not http(s)": {githubAppIDKey: []byte("1"), githubAppPrivateKeyKey: pemKey, githubAppBaseURLKey: []byte("file:///etc")},
	} {
		_, err := New(Settings{Type: "github", Address: "https://github.com/org/repo", Secret: s})
		var permanent *PermanentError
		if !errors.As(err, &permanent) || !strings.Contains(err.Error(), "githubApp") || strings.Contains(err.Error(), "SECRETBYTES") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
