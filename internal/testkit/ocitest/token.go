package ocitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// TokenServer is the token service of a TokenAuth registry (the Docker
// registry token protocol): GET <Realm>?service=...&scope=... with basic
// credentials, or POST <Realm> with an OAuth2 password grant, answers a JWT
// signed with ES256 by a key whose certificate (sent in the x5c header)
// chains to the registry's rootcertbundle.
type TokenServer struct {
	// URL is the server's base URL, http(s)://localhost:<port> (it
	// listens on 127.0.0.1); Realm is URL + "/token", the realm of the
	// registry's Bearer challenge.
	URL   string
	Realm string
	// Service and Issuer are the registry's auth.token service and issuer:
	// the token's aud and iss.
	Service string
	Issuer  string

	username, password string
	anonymousPull      bool
	key                *ecdsa.PrivateKey
	x5c                string
	rootPEM            []byte
	srv                *httptest.Server

	mu       sync.Mutex
	requests []TokenRequest
}

// TokenRequest is one request the token server answered.
type TokenRequest struct {
	// Method is GET or POST; Account the user name the client
	// authenticated as, "" for an anonymous request.
	Method  string
	Account string
	// Scopes are the scopes asked for, as sent ("repository:app:pull,push").
	Scopes []string
	// Granted are the scopes in the issued token, in the same form; nil
	// when no token was issued.
	Granted []string
	// Status is the HTTP status of the answer.
	Status int
}

// Access is one entry of a token's access claim.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// newTokenServer starts a token server, over HTTPS from ca when ca is not
// nil. Its signing certificate comes from ca, or from a CA of its own.
func newTokenServer(ca *testca.CA, username, password string, anonymousPull bool) (*TokenServer, error) {
	signingCA := ca
	if signingCA == nil {
		signingCA = testca.New("ocitest token CA")
	}
	signer := signingCA.Signer("ocitest token signer")
	key, ok := signer.Key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("token signer key is %T, want ECDSA", signer.Key)
	}
	ts := &TokenServer{
		Service:       "ocitest-registry",
		Issuer:        "ocitest-token-server",
		username:      username,
		password:      password,
		anonymousPull: anonymousPull,
		key:           key,
		x5c:           base64.StdEncoding.EncodeToString(signer.Cert.Raw),
		rootPEM:       signingCA.CertPEM,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", ts.serveToken)
	ts.srv = httptest.NewUnstartedServer(mux)
	if ca != nil {
		ts.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server().TLSCertificate()}, MinVersion: tls.VersionTLS12}
		ts.srv.StartTLS()
	} else {
		ts.srv.Start()
	}
	// The realm names localhost, not 127.0.0.1: go-containerregistry
	// (v0.22.1) refuses a realm at a loopback or private IP literal unless
	// it is the registry's own host:port, against SSRF; a DNS name passes,
	// as a public registry's token service does.
	ts.URL = strings.Replace(ts.srv.URL, "127.0.0.1", "localhost", 1)
	ts.Realm = ts.URL + "/token"
	return ts, nil
}

func (ts *TokenServer) close() {
	ts.srv.Close()
}

// Requests returns the requests the token server answered so far. They are
// recorded before the answer is written, so a client that got its answer
// finds its request listed.
func (ts *TokenServer) Requests() []TokenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]TokenRequest(nil), ts.requests...)
}

func (ts *TokenServer) serveToken(w http.ResponseWriter, req *http.Request) {
	rec := TokenRequest{Method: req.Method}
	var user, pass string
	var hasCreds bool
	switch req.Method {
	case http.MethodGet:
		user, pass, hasCreds = req.BasicAuth()
		rec.Scopes = req.URL.Query()["scope"]
	case http.MethodPost:
		if err := req.ParseForm(); err != nil {
			ts.fail(w, &rec, http.StatusBadRequest, "UNSUPPORTED", "bad form: "+err.Error())
			return
		}
		if gt := req.PostForm.Get("grant_type"); gt != "password" {
			ts.fail(w, &rec, http.StatusBadRequest, "UNSUPPORTED", fmt.Sprintf("grant_type %q is not supported, only password", gt))
			return
		}
		user, pass, hasCreds = req.PostForm.Get("username"), req.PostForm.Get("password"), true
		rec.Scopes = strings.Fields(req.PostForm.Get("scope"))
	default:
		ts.fail(w, &rec, http.StatusMethodNotAllowed, "UNSUPPORTED", "GET or POST")
		return
	}
	service := req.URL.Query().Get("service")
	if req.Method == http.MethodPost {
		service = req.PostForm.Get("service")
	}
	if service != ts.Service {
		ts.fail(w, &rec, http.StatusBadRequest, "INVALID", fmt.Sprintf("unknown service %q, want %q", service, ts.Service))
		return
	}
	if hasCreds {
		if subtle.ConstantTimeCompare([]byte(user), []byte(ts.username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(ts.password)) != 1 {
			ts.fail(w, &rec, http.StatusUnauthorized, "UNAUTHORIZED", "wrong user name or password")
			return
		}
		rec.Account = user
	} else if !ts.anonymousPull {
		w.Header().Set("WWW-Authenticate", `Basic realm="ocitest token server"`)
		ts.fail(w, &rec, http.StatusUnauthorized, "UNAUTHORIZED", "credentials required")
		return
	}

	var access []Access
	for _, scope := range rec.Scopes {
		a, ok := parseScope(scope)
		if !ok {
			ts.fail(w, &rec, http.StatusBadRequest, "INVALID", fmt.Sprintf("malformed scope %q", scope))
			return
		}
		if rec.Account == "" {
			// Anonymous clients may only pull.
			a.Actions = slices.DeleteFunc(a.Actions, func(action string) bool { return action != "pull" })
		}
		if len(a.Actions) > 0 {
			access = append(access, a)
			rec.Granted = append(rec.Granted, a.Type+":"+a.Name+":"+strings.Join(a.Actions, ","))
		}
	}
	if rec.Granted == nil {
		rec.Granted = []string{}
	}
	now := time.Now()
	token, err := ts.sign(map[string]any{
		"iss":    ts.Issuer,
		"sub":    rec.Account,
		"aud":    ts.Service,
		"exp":    now.Add(5 * time.Minute).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"iat":    now.Unix(),
		"jti":    randomHex(8),
		"access": access,
	})
	if err != nil {
		ts.fail(w, &rec, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	rec.Status = http.StatusOK
	ts.record(rec)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the client sees a short body
		"token":        token,
		"access_token": token,
		"expires_in":   300,
		"issued_at":    now.UTC().Format(time.RFC3339),
	})
}

func (ts *TokenServer) fail(w http.ResponseWriter, rec *TokenRequest, status int, code, message string) {
	rec.Status = status
	rec.Granted = nil
	ts.record(*rec)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the client sees a short body
		"errors": []map[string]string{{"code": code, "message": message}},
	})
}

func (ts *TokenServer) record(rec TokenRequest) {
	ts.mu.Lock()
	ts.requests = append(ts.requests, rec)
	ts.mu.Unlock()
}

// parseScope splits "type[(class)]:name:action,action". The name may hold
// colons (a registry host with a port); the actions follow the last one.
func parseScope(scope string) (Access, bool) {
	first := strings.Index(scope, ":")
	last := strings.LastIndex(scope, ":")
	if first <= 0 || last == first || last == len(scope)-1 {
		return Access{}, false
	}
	typ := scope[:first]
	if i := strings.Index(typ, "("); i > 0 {
		typ = typ[:i]
	}
	var actions []string
	for _, a := range strings.Split(scope[last+1:], ",") {
		if a != "" && !slices.Contains(actions, a) {
			actions = append(actions, a)
		}
	}
	return Access{Type: typ, Name: scope[first+1 : last], Actions: actions}, true
}

// sign encodes claims as a JWS compact serialisation with ES256: the
// signature is r and s, each left-padded to 32 bytes (RFC 7518 §3.4).
func (ts *TokenServer) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]any{"alg": "ES256", "typ": "JWT", "x5c": []string{ts.x5c}})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// verifyToken checks a token's ES256 signature with the server's key and
// returns its claims; the tests use it to read what was granted.
func (ts *TokenServer) verifyToken(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("token has %d parts, want 3", len(parts))
	}
	enc := base64.RawURLEncoding
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, fmt.Errorf("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := ts.key.Public().(*ecdsa.PublicKey)
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, fmt.Errorf("signature does not verify")
	}
	payload, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	return claims, json.Unmarshal(payload, &claims)
}

var _ crypto.Signer = (*ecdsa.PrivateKey)(nil)
