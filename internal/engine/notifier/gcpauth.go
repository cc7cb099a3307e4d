package notifier

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// googleTokenURI is where a service-account key without token_uri
// exchanges its assertions.
const googleTokenURI = "https://oauth2.googleapis.com/token"

// jwtBearerGrant is the OAuth2 grant type of a signed assertion (RFC 7523).
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// tokenMargin is how long before its expiry a cached access token is
// replaced, so that none expires in flight.
const tokenMargin = time.Minute

// maxServiceAccountKey bounds the Secret's token read as a key file.
const maxServiceAccountKey = 64 << 10

// serviceAccountKey holds the fields of a Google service-account key file
// (the JSON of `gcloud iam service-accounts keys create`) this package uses.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// googleTokens turns a service-account key into OAuth2 access tokens: it
// signs an RS256 assertion with the key and exchanges it at the key's
// token_uri, caching the token until shortly before it expires. Nothing it
// returns quotes the key or a token.
type googleTokens struct {
	settings Settings
	email    string
	keyID    string
	key      *rsa.PrivateKey
	tokenURI string
	scope    string
	now      func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// newGoogleTokens reads the key file: its type, client_email, private key
// (PKCS#8 or PKCS#1 PEM) and token_uri (https only, as a bearer
// credential travels there).
func newGoogleTokens(s Settings, data []byte, scope string) (*googleTokens, serviceAccountKey, error) {
	var sa serviceAccountKey
	if len(data) > maxServiceAccountKey {
		return nil, sa, fmt.Errorf("the Secret's token is %d bytes, over the %d a service-account key may have", len(data), maxServiceAccountKey)
	}
	if err := json.Unmarshal(data, &sa); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, sa, fmt.Errorf("the Secret's token is not a service-account key: invalid JSON at byte %d", syntax.Offset)
		}
		return nil, sa, errors.New("the Secret's token is not a service-account key: its fields do not have the expected types")
	}
	if sa.Type != "service_account" {
		return nil, sa, fmt.Errorf("the Secret's token is a credential of type %q: give the JSON key of a service account (type service_account)", sa.Type)
	}
	if sa.ClientEmail == "" {
		return nil, sa, errors.New("the service-account key in the Secret's token has no client_email")
	}
	key, err := parseRSAKey([]byte(sa.PrivateKey))
	if err != nil {
		return nil, sa, fmt.Errorf("the private_key of the service-account key in the Secret's token: %w", err)
	}
	tokenURI := sa.TokenURI
	if tokenURI == "" {
		tokenURI = googleTokenURI
	}
	if err := checkHTTPS(tokenURI); err != nil {
		return nil, sa, fmt.Errorf("the token_uri of the service-account key in the Secret's token: %w", err)
	}
	return &googleTokens{settings: s, email: sa.ClientEmail, keyID: sa.PrivateKeyID, key: key, tokenURI: tokenURI, scope: scope, now: time.Now}, sa, nil
}

// checkHTTPS accepts an https URL with a host and no userinfo. The error
// does not quote the address: the caller shows it as it may be shown.
func checkHTTPS(address string) error {
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return errors.New("not an https URL with a host (and no credentials)")
	}
	return nil
}

// accessToken returns a valid access token, from the cache or a new
// exchange.
func (g *googleTokens) accessToken(ctx context.Context) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if g.token != "" && now.Before(g.expiry.Add(-tokenMargin)) {
		return g.token, nil
	}
	assertion, err := g.assertion(now)
	if err != nil {
		return "", &PermanentError{Err: err}
	}
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}
	answer, err := g.settings.do(ctx, request{
		method: http.MethodPost, url: g.tokenURI, body: []byte(form.Encode()),
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
	})
	if err != nil {
		return "", fmt.Errorf("exchange the service account's assertion for an access token: %w", err)
	}
	var token struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(answer, &token); err != nil || token.AccessToken == "" {
		return "", &PermanentError{Err: fmt.Errorf("the token endpoint %s answered without an access_token: check the key's token_uri", g.tokenURI)}
	}
	if token.ExpiresIn <= 0 {
		token.ExpiresIn = 3600
	}
	g.token, g.expiry = token.AccessToken, now.Add(time.Duration(token.ExpiresIn)*time.Second)
	return g.token, nil
}

// forget drops the cached token (the service refused it).
func (g *googleTokens) forget(token string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.token == token {
		g.token = ""
	}
}

// assertion is the signed JWT of RFC 7523: issued by the service account,
// for the token endpoint, with the scope, valid one hour.
func (g *googleTokens) assertion(now time.Time) (string, error) {
	header := map[string]string{}
	if g.keyID != "" {
		header["kid"] = g.keyID
	}
	token, err := signRS256(g.key, header, map[string]any{
		"iss": g.email, "scope": g.scope, "aud": g.tokenURI,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return "", errors.New("sign the service account's assertion: the private key does not work")
	}
	return token, nil
}

// hideToken replaces an access token quoted in text.
func hideToken(text, token string) string {
	if len(token) < 4 {
		return text
	}
	return strings.ReplaceAll(text, token, "***")
}
