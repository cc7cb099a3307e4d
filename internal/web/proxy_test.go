package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/web/auth"
)

// proxyCA signs the authenticating proxy's client certificates.
type proxyCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newProxyCA(t *testing.T, name string) proxyCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return proxyCA{cert: cert, key: key}
}

// connection is the TLS state of a connection on which the proxy presented
// a client certificate that ca signed, as the handshake leaves it.
func (ca proxyCA) connection(t *testing.T) *tls.ConnectionState {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "front-proxy"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{leaf},
		VerifiedChains: [][]*x509.Certificate{{leaf, ca.cert}}}
}

// proxyServer is the in-cluster UI with token login and an authenticating
// proxy whose CA is ca, over the fixtures with a fake actor.
func proxyServer(t *testing.T, ca proxyCA) (http.Handler, *fakeActor) {
	t.Helper()
	opts := testOptions()
	opts.Anonymous = false
	opts.Login = &auth.Authenticator{Reviews: twoUsers{}, Now: opts.Now}
	p, err := auth.NewProxy(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
	if err != nil {
		t.Fatal(err)
	}
	opts.Proxy = p
	actor := &fakeActor{}
	opts.Actor = actor
	return New(opts), actor
}

// viaProxy sends a request over the TLS connection conn (nil for one
// without a client certificate), naming user and groups in the proxy's
// headers when user is not "".
func viaProxy(h http.Handler, conn *tls.ConnectionState, method, path, user string, groups []string, form url.Values, cookies []*http.Cookie) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "https://localhost:9080"+path, body)
	req.TLS = conn
	if conn == nil {
		req.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://localhost:9080")
	}
	if user != "" {
		req.Header.Set(auth.HeaderRemoteUser, user)
	}
	for _, g := range groups {
		req.Header.Add(auth.HeaderRemoteGroup, g)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestProxiedUserReadsAndActsByImpersonation(t *testing.T) {
	ca := newProxyCA(t, "proxy-ca")
	h, actor := proxyServer(t, ca)
	conn := ca.connection(t)
	groups := []string{"team-apps", "system:authenticated"}

	page := viaProxy(h, conn, http.MethodGet, brokenPage, editorName, groups, nil, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("proxied GET: %d\n%s", page.Code, page.Body)
	}
	body := page.Body.String()
	for _, want := range []string{editorName, `action="` + brokenPage + `/reconcile"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the proxied editor's page lacks %q", want)
		}
	}
	if strings.Contains(body, `action="/logout"`) {
		t.Error("a proxied page offers a logout: the proxy, not the UI, signs users out")
	}
	cookies := []*http.Cookie{sessionCookie(t, page)}
	csrf := between(body, `<meta name="csrf-token" content="`, `"`)

	// The same browser's next page keeps its session (and CSRF token).
	again := viaProxy(h, conn, http.MethodGet, "/", editorName, []string{"system:authenticated", "team-apps"}, nil, cookies)
	if again.Code != http.StatusOK || len(again.Result().Cookies()) != 0 {
		t.Fatalf("second proxied GET: %d, cookies %v", again.Code, again.Result().Cookies())
	}

	rec := viaProxy(h, conn, http.MethodPost, brokenPage+"/suspend", editorName, groups, url.Values{auth.CSRFField: {csrf}}, cookies)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("proxied suspend: %d\n%s", rec.Code, rec.Body)
	}
	sent := actor.sent()
	if len(sent) != 1 || sent[0].User != editorName || sent[0].Mode != auth.ModeProxy {
		t.Fatalf("patches %+v: want one as %s by impersonation (mode %d)", sent, editorName, auth.ModeProxy)
	}
}

func TestProxyHeadersAreTrustedOnlyFromTheProxy(t *testing.T) {
	ca := newProxyCA(t, "proxy-ca")
	h, actor := proxyServer(t, ca)
	conn := ca.connection(t)
	foreign := newProxyCA(t, "proxy-ca").connection(t) // same name, another key

	for name, c := range map[string]*tls.ConnectionState{"no client certificate": nil, "a certificate of another CA": foreign} {
		rec := viaProxy(h, c, http.MethodGet, brokenPage, editorName, []string{"system:masters"}, nil, nil)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "<h1>Log in</h1>") {
			t.Errorf("%s naming %s: %d, want the login page\n%s", name, editorName, rec.Code, rec.Body)
		}
	}

	// A proxied session's cookie, replayed around the proxy, is no one's.
	page := viaProxy(h, conn, http.MethodGet, brokenPage, editorName, nil, nil, nil)
	cookies := []*http.Cookie{sessionCookie(t, page)}
	csrf := between(page.Body.String(), `<meta name="csrf-token" content="`, `"`)
	if rec := viaProxy(h, nil, http.MethodGet, brokenPage, "", nil, nil, cookies); rec.Code != http.StatusUnauthorized {
		t.Errorf("the proxied cookie without the proxy: %d, want the login page", rec.Code)
	}
	if rec := viaProxy(h, nil, http.MethodPost, brokenPage+"/suspend", "", nil, url.Values{auth.CSRFField: {csrf}}, cookies); rec.Header().Get("Location") != "/login" {
		t.Errorf("the proxied cookie's POST without the proxy: %d to %q, want login", rec.Code, rec.Header().Get("Location"))
	}

	// The proxy names someone else on the same browser: the old session
	// and its CSRF token are gone, and nothing is done.
	rec := viaProxy(h, conn, http.MethodPost, brokenPage+"/suspend", "mallory", nil, url.Values{auth.CSRFField: {csrf}}, cookies)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "the session changed") {
		t.Errorf("POST as another proxied user with the first one's session: %d\n%s", rec.Code, rec.Body)
	}
	if rec := viaProxy(h, conn, http.MethodPost, brokenPage+"/suspend", editorName, nil, url.Values{auth.CSRFField: {csrf}}, cookies); rec.Code == http.StatusSeeOther {
		t.Errorf("the first user's session survived another user on its cookie")
	}
	if sent := actor.sent(); len(sent) != 0 {
		t.Errorf("patches sent: %+v", sent)
	}
}
