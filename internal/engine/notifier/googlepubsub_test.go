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
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const fakeAccessToken = "ya29.fake-access-token"

// newTLSFake is a fakeService reached over https (the credentials'
// token_uri and the endpoints must be https): the returned server's
// client trusts it and every other such fake.
func newTLSFake(t *testing.T) (*fakeService, *httptest.Server) {
	t.Helper()
	f := newFakeService(t)
	srv := httptest.NewTLSServer(f.Config.Handler)
	t.Cleanup(srv.Close)
	return f, srv
}

// serviceAccount returns a service-account key file whose token_uri is
// the fake's, and its private key.
func serviceAccount(t *testing.T, tokenURI string) (string, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "driftless-test",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "flux@driftless-test.iam.gserviceaccount.com",
		"token_uri":      tokenURI,
	})
	return string(file), key
}

// pubsubFakes are the token endpoint and Pub/Sub, answering as Google's do.
type pubsubFakes struct {
	token, pubsub *fakeService
	tokenURI      string
	project       string
	client        *http.Client
}

func newPubSubFakes(t *testing.T) pubsubFakes {
	token, tokenSrv := newTLSFake(t)
	token.answerWith(http.StatusOK, `{"access_token":"`+fakeAccessToken+`","expires_in":3599,"token_type":"Bearer"}`)
	pubsub, pubsubSrv := newTLSFake(t)
	pubsub.answerWith(http.StatusOK, `{"messageIds":["4242"]}`)
	return pubsubFakes{token: token, pubsub: pubsub, tokenURI: tokenSrv.URL + "/token",
		project: pubsubSrv.URL + "/v1/projects/driftless-test", client: pubsubSrv.Client()}
}

func TestGooglePubSubPublishesTheEvent(t *testing.T) {
	fakes := newPubSubFakes(t)
	sa, key := serviceAccount(t, fakes.tokenURI)
	n, err := New(Settings{Type: "googlepubsub", Address: fakes.project, Channel: "flux-events", Token: sa,
		Headers: map[string]string{"cluster": "production", "team": "platform"}, Client: fakes.client})
	if err != nil {
		t.Fatal(err)
	}
	event := testEvent("error")
	for range 2 {
		if err := n.Post(context.Background(), event); err != nil {
			t.Fatal(err)
		}
	}
	published := fakes.pubsub.received()
	if len(published) != 2 {
		t.Fatalf("%d publish calls, want 2", len(published))
	}
	golden(t, "googlepubsub", published[0], "Authorization", "Content-Type")
	var body struct {
		Messages []struct{ Data string } `json:"messages"`
	}
	if err := json.Unmarshal(published[0].Body, &body); err != nil || len(body.Messages) != 1 {
		t.Fatalf("body %s: %v", published[0].Body, err)
	}
	data, _ := base64.StdEncoding.DecodeString(body.Messages[0].Data)
	want, _ := json.Marshal(event)
	if string(data) != string(want) {
		t.Errorf("data %s, want the Event JSON", data)
	}
	// One exchange for both: the token is cached until it expires.
	checkAssertion(t, fakes.token.only(t), fakes.tokenURI, &key.PublicKey)
}

// checkAssertion checks the token request is RFC 7523's, signed by the
// service account's key, for Pub/Sub's scope.
func checkAssertion(t *testing.T, r recorded, tokenURI string, public *rsa.PublicKey) {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/token" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("token request %s %s %s", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Fatalf("token request body %s", r.Body)
	}
	parts := strings.Split(form.Get("assertion"), ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q is not a JWT", form.Get("assertion"))
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(public, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("the assertion's signature: %v", err)
	}
	var header map[string]string
	var claims struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &header) != nil || json.Unmarshal(c, &claims) != nil {
		t.Fatalf("assertion header %s claims %s", h, c)
	}
	if header["alg"] != "RS256" || header["kid"] != "0123456789abcdef" {
		t.Errorf("header %v", header)
	}
	if claims.Iss != "flux@driftless-test.iam.gserviceaccount.com" || claims.Aud != tokenURI ||
		claims.Scope != "https://www.googleapis.com/auth/pubsub" || claims.Exp-claims.Iat != 3600 {
		t.Errorf("claims %+v", claims)
	}
}

// The token is exchanged again when it nears its expiry, and after the
// service refused it.
func TestGooglePubSubRenewsTheToken(t *testing.T) {
	fakes := newPubSubFakes(t)
	sa, _ := serviceAccount(t, fakes.tokenURI)
	n, err := New(Settings{Type: "googlepubsub", Address: fakes.project, Channel: "flux-events", Token: sa, Client: fakes.client})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	n.(*pubsubNotifier).tokens.now = func() time.Time { return now }
	post := func() error { return n.Post(context.Background(), testEvent("info")) }
	if err := post(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Minute) // past 3599 s less the minute of margin
	if err := post(); err != nil {
		t.Fatal(err)
	}
	if got := len(fakes.token.received()); got != 2 {
		t.Fatalf("%d exchanges after expiry, want 2", got)
	}
	fakes.pubsub.answerWith(http.StatusUnauthorized, `{"error":{"code":401,"status":"UNAUTHENTICATED"}}`)
	if err := post(); err == nil {
		t.Fatal("401 accepted")
	}
	fakes.pubsub.answerWith(http.StatusOK, `{"messageIds":["1"]}`)
	if err := post(); err != nil {
		t.Fatal(err)
	}
	if got := len(fakes.token.received()); got != 3 {
		t.Errorf("%d exchanges after a 401, want 3", got)
	}
}

func TestGooglePubSubFailures(t *testing.T) {
	fakes := newPubSubFakes(t)
	sa, key := serviceAccount(t, fakes.tokenURI)
	n, err := New(Settings{Type: "googlepubsub", Address: fakes.project, Channel: "flux-events", Token: sa, Client: fakes.client})
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPart := base64.StdEncoding.EncodeToString(der)[100:140]
	for _, c := range []struct {
		name          string
		token, pubsub int
		retry         bool
	}{
		{"publish forbidden", http.StatusOK, http.StatusForbidden, false},
		{"publish unavailable", http.StatusOK, http.StatusServiceUnavailable, true},
		{"grant refused", http.StatusBadRequest, http.StatusOK, false},
		{"token endpoint unavailable", http.StatusServiceUnavailable, http.StatusOK, true},
	} {
		tokenBody := `{"access_token":"` + fakeAccessToken + `","expires_in":3599}`
		if c.token != http.StatusOK {
			tokenBody = `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`
		}
		fakes.token.answerWith(c.token, tokenBody)
		fakes.pubsub.answerWith(c.pubsub, `{"error":{"message":"denied for `+fakeAccessToken+`"}}`)
		n.(*pubsubNotifier).tokens.forget(fakeAccessToken)
		err := n.Post(context.Background(), testEvent("error"))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if retry, _ := Retryable(err); retry != c.retry {
			t.Errorf("%s: Retryable(%v) = %v", c.name, err, retry)
		}
		for _, secret := range []string{fakeAccessToken, keyPart, "PRIVATE KEY", "private_key"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q shows %q", c.name, err, secret)
			}
		}
	}
}

// An endpoint that answers 200 without what Google's would send is not
// retried: it is not the service the settings meant.
func TestGooglePubSubForeignAnswersAreNotRetried(t *testing.T) {
	fakes := newPubSubFakes(t)
	sa, _ := serviceAccount(t, fakes.tokenURI)
	n, err := New(Settings{Type: "googlepubsub", Address: fakes.project, Channel: "flux-events", Token: sa, Client: fakes.client})
	if err != nil {
		t.Fatal(err)
	}
	fakes.pubsub.answerWith(http.StatusOK, `<html>welcome</html>`)
	err = n.Post(context.Background(), testEvent("error"))
	if retry, _ := Retryable(err); err == nil || retry || !strings.Contains(err.Error(), "message's ID") {
		t.Errorf("a publish answer without an ID: %v", err)
	}
	fakes.token.answerWith(http.StatusOK, `{}`)
	n.(*pubsubNotifier).tokens.forget(fakeAccessToken)
	err = n.Post(context.Background(), testEvent("error"))
	if retry, _ := Retryable(err); err == nil || retry || !strings.Contains(err.Error(), "access_token") {
		t.Errorf("a token answer without a token: %v", err)
	}
}

func TestGooglePubSubSettingsRefused(t *testing.T) {
	sa, _ := serviceAccount(t, "https://oauth2.example.com/token")
	httpSA, _ := serviceAccount(t, "http://oauth2.example.com/token")
	var fields map[string]string
	_ = json.Unmarshal([]byte(sa), &fields)
	with := func(k, v string) string {
		f := map[string]string{}
		for key, value := range fields {
			f[key] = value
		}
		f[k] = v
		b, _ := json.Marshal(f)
		return string(b)
	}
	many := map[string]string{}
	for i := range 101 {
		many["k"+strings.Repeat("x", i)] = "v"
	}
	for _, c := range []struct {
		name string
		s    Settings
		want string
	}{
		{"no token", Settings{Address: "my-project", Channel: "flux-events"}, "no token"},
		{"not JSON", Settings{Address: "my-project", Channel: "flux-events", Token: "{not json"}, "invalid JSON at byte"},
		{"user credentials", Settings{Address: "my-project", Channel: "flux-events", Token: with("type", "authorized_user")}, `"authorized_user"`},
		{"no email", Settings{Address: "my-project", Channel: "flux-events", Token: with("client_email", "")}, "client_email"},
		{"bad key", Settings{Address: "my-project", Channel: "flux-events", Token: with("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, "private_key"},
		{"plain token_uri", Settings{Address: "my-project", Channel: "flux-events", Token: httpSA}, "not an https URL"},
		{"bad project", Settings{Address: "My_Project", Channel: "flux-events", Token: sa}, "not a GCP project ID"},
		{"path injection", Settings{Address: "my-project/topics/other", Channel: "flux-events", Token: sa}, "not a GCP project ID"},
		{"endpoint query", Settings{Address: "https://pubsub.example.com/v1/projects/my-project?x=1", Channel: "flux-events", Token: sa}, "not a project's URL"},
		{"plain endpoint", Settings{Address: "http://pubsub.example.com/v1/projects/my-project", Channel: "flux-events", Token: sa}, "not an https URL"},
		{"no topic", Settings{Address: "my-project", Token: sa}, "spec.channel"},
		{"reserved topic", Settings{Address: "my-project", Channel: "google-events", Token: sa}, "not a Pub/Sub topic ID"},
		{"topic injection", Settings{Address: "my-project", Channel: "events:publish?x", Token: sa}, "not a Pub/Sub topic ID"},
		{"reserved attribute", Settings{Address: "my-project", Channel: "flux-events", Token: sa, Headers: map[string]string{"googclient": "x"}}, `"googclient"`},
		{"long attribute", Settings{Address: "my-project", Channel: "flux-events", Token: sa, Headers: map[string]string{"big": strings.Repeat("v", 1025)}}, `"big"`},
		{"many attributes", Settings{Address: "my-project", Channel: "flux-events", Token: sa, Headers: many}, "over the 100"},
	} {
		c.s.Type = "googlepubsub"
		_, err := New(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error saying %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), strings.Repeat("v", 20)) {
			t.Errorf("%s: error %q shows a secret", c.name, err)
		}
	}
	// A refused address from the Secret is not quoted.
	for _, address := range []string{"http://pubsub.example.com/v1/projects/hidden-project", "https://pubsub.example.com/hidden-project", "Hidden_Project"} {
		_, err := New(Settings{Type: "googlepubsub", Address: address, AddressFromSecret: true, Channel: "flux-events", Token: sa})
		if err == nil || strings.Contains(strings.ToLower(err.Error()), "hidden") {
			t.Errorf("address %s: New = %v", address, err)
		}
	}
	// Without an address, the key's project; with one, the project given.
	for address, want := range map[string]string{
		"":                       "https://pubsub.googleapis.com/v1/projects/driftless-test/topics/flux-events:publish",
		"my-project":             "https://pubsub.googleapis.com/v1/projects/my-project/topics/flux-events:publish",
		"example.com:my-project": "https://pubsub.googleapis.com/v1/projects/example.com:my-project/topics/flux-events:publish",
		"https://europe-west1-pubsub.googleapis.com/v1/projects/my-project": "https://europe-west1-pubsub.googleapis.com/v1/projects/my-project/topics/flux-events:publish",
	} {
		n, err := New(Settings{Type: "googlepubsub", Address: address, Channel: "flux-events", Token: sa})
		if err != nil {
			t.Errorf("address %q: %v", address, err)
			continue
		}
		if got := n.(*pubsubNotifier).publishURL; got != want {
			t.Errorf("address %q: publish to %s, want %s", address, got, want)
		}
	}
}
