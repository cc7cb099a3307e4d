package webhook

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Bounds of the ID tokens and key documents a check reads.
const (
	maxTokenSize    = 16 << 10
	maxKeyDocSize   = 1 << 20
	keyFetchTimeout = 10 * time.Second
	// keysTTL is how long fetched keys are trusted before a fetch again; a
	// token with an unknown kid fetches at once, at most once a minute.
	keysTTL      = 15 * time.Minute
	refetchEvery = time.Minute
	clockSkew    = time.Minute
)

// GoogleKeysURL is where Google publishes the keys of its ID tokens.
const GoogleKeysURL = "https://www.googleapis.com/oauth2/v3/certs"

// Keys fetches and caches JSON Web Key Sets (RSA keys only) and OpenID
// discovery documents. One Keys serves every Receiver of a server.
type Keys struct {
	// Client fetches the documents; nil means one with keyFetchTimeout.
	Client *http.Client
	// GoogleURL is the JWKS of gcr tokens; "" means GoogleKeysURL.
	GoogleURL string

	mu        sync.Mutex
	sets      map[string]*keySet
	discovery map[string]discovered
}

// discovered is an issuer's jwks_uri and when it was read.
type discovered struct {
	jwks    string
	fetched time.Time
}

type keySet struct {
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func (k *Keys) client() *http.Client {
	if k.Client != nil {
		return k.Client
	}
	return &http.Client{Timeout: keyFetchTimeout}
}

// getJSON fetches url into v, bounded in size and time.
func (k *Keys) getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, keyFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := k.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyDocSize+1))
	if err != nil {
		return err
	}
	if len(body) > maxKeyDocSize {
		return fmt.Errorf("GET %s: document over %d bytes", url, maxKeyDocSize)
	}
	return json.Unmarshal(body, v)
}

// key returns the RSA key kid of the set at url, fetching the set when it
// is stale or does not know kid.
func (k *Keys) key(ctx context.Context, url, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	set := k.sets[url]
	k.mu.Unlock()
	now := time.Now()
	if set != nil {
		if key, ok := set.keys[kid]; ok && now.Sub(set.fetched) < keysTTL {
			return key, nil
		}
		if now.Sub(set.fetched) < refetchEvery {
			if key, ok := set.keys[kid]; ok {
				return key, nil
			}
			return nil, fmt.Errorf("no key %q in %s", truncate(kid), url)
		}
	}
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := k.getJSON(ctx, url, &doc); err != nil {
		return nil, fmt.Errorf("fetch keys: %w", err)
	}
	fresh := &keySet{keys: map[string]*rsa.PublicKey{}, fetched: now}
	for _, jwk := range doc.Keys {
		if jwk.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(jwk.N)
		e, err2 := base64.RawURLEncoding.DecodeString(jwk.E)
		if err1 != nil || err2 != nil || len(e) > 4 || len(n) < 256 {
			continue
		}
		fresh.keys[jwk.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	k.mu.Lock()
	if k.sets == nil {
		k.sets = map[string]*keySet{}
	}
	k.sets[url] = fresh
	k.mu.Unlock()
	if key, ok := fresh.keys[kid]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("no key %q in %s", truncate(kid), url)
}

// jwksOf returns the jwks_uri of issuer's discovery document, which must
// name the same issuer.
func (k *Keys) jwksOf(ctx context.Context, issuer string) (string, error) {
	k.mu.Lock()
	d, ok := k.discovery[issuer]
	k.mu.Unlock()
	if ok && time.Since(d.fetched) < keysTTL {
		return d.jwks, nil
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return "", fmt.Errorf("OIDC discovery: %w", err)
	}
	if doc.Issuer != issuer || doc.JWKSURI == "" {
		return "", errors.New("OIDC discovery: the document names another issuer or no jwks_uri")
	}
	k.mu.Lock()
	if k.discovery == nil {
		k.discovery = map[string]discovered{}
	}
	k.discovery[issuer] = discovered{jwks: doc.JWKSURI, fetched: time.Now()}
	k.mu.Unlock()
	return doc.JWKSURI, nil
}

// idToken is a parsed, not yet verified, RS256 JWT.
type idToken struct {
	kid     string
	signed  []byte
	sig     []byte
	claims  map[string]any
	issuer  string
	expires time.Time
}

// bearer returns the token of an 'Authorization: Bearer' header.
func bearer(h http.Header) (string, error) {
	v := h.Get("Authorization")
	tok, ok := strings.CutPrefix(v, "Bearer ")
	if !ok || tok == "" {
		return "", refuse("header Authorization must carry a Bearer ID token")
	}
	if len(tok) > maxTokenSize {
		return "", refuse("the ID token is over %d bytes", maxTokenSize)
	}
	return tok, nil
}

func parseToken(raw string) (*idToken, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, refuse("the ID token is not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil {
		return nil, refuse("the ID token is not a JWT")
	}
	if header.Alg != "RS256" {
		return nil, refuse("the ID token is signed with %q; only RS256 is accepted", truncate(header.Alg))
	}
	claims, ok := decodeJSON(pb).(map[string]any)
	if !ok {
		return nil, refuse("the ID token's claims are not a JSON object")
	}
	t := &idToken{kid: header.Kid, signed: []byte(parts[0] + "." + parts[1]), sig: sig, claims: claims}
	t.issuer, _ = claims["iss"].(string)
	if exp, ok := claims["exp"].(int64); ok {
		t.expires = time.Unix(exp, 0)
	}
	return t, nil
}

// verify checks the signature with key, then expiry, issuer and audience.
func (t *idToken) verify(key *rsa.PublicKey, issuers []string, audience string, now time.Time) error {
	sum := sha256.Sum256(t.signed)
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], t.sig); err != nil {
		return refuse("the ID token's signature is not valid")
	}
	if t.expires.IsZero() || now.After(t.expires.Add(clockSkew)) {
		return refuse("the ID token has expired or has no 'exp'")
	}
	if nbf, ok := t.claims["nbf"].(int64); ok && now.Add(clockSkew).Before(time.Unix(nbf, 0)) {
		return refuse("the ID token is not valid yet")
	}
	if !contains(issuers, t.issuer) {
		return refuse("the ID token's issuer %q is not trusted", truncate(t.issuer))
	}
	if !hasAudience(t.claims["aud"], audience) {
		return refuse("the ID token's audience is not %q", truncate(audience))
	}
	return nil
}

func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
