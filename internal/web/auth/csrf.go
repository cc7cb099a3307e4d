package auth

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// Where a POST carries its CSRF token: the form field of plain forms, the
// header htmx sends (hx-headers).
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// maxFormBytes bounds the form CheckCSRF reads to find the token.
const maxFormBytes = 64 << 10

// CSRFError is a POST refused as a possible cross-site request; its
// message is the reason, for the 403 page.
type CSRFError struct{ Reason string }

func (e *CSRFError) Error() string { return e.Reason }

// CheckCSRF checks a POST of sess: it must come from the UI's own origin
// (an Origin header equal to one of origins, or, without Origin,
// Sec-Fetch-Site: same-origin) and carry the session's synchronizer token
// in the CSRFHeader header or the CSRFField form field. origins are the
// UI's own origins ("https://ui.example.com"); none means the origin the
// request itself names (its scheme and Host, which the server has checked
// against the hosts it serves). A refusal is a *CSRFError.
func CheckCSRF(r *http.Request, sess Session, origins ...string) error {
	if err := CheckOrigin(r, origins...); err != nil {
		return err
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
		token = r.PostFormValue(CSRFField)
	}
	switch {
	case token == "":
		return &CSRFError{Reason: "missing CSRF token"}
	case sess.CSRF == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRF)) != 1:
		return &CSRFError{Reason: "wrong CSRF token (the page may be from an older session: reload it)"}
	}
	return nil
}

// CheckOrigin is CheckCSRF's origin half, for a POST made before there is
// a session to hold a token (the login form): a *CSRFError unless r comes
// from one of origins (none: the request's own scheme and Host).
func CheckOrigin(r *http.Request, origins ...string) error {
	origin := r.Header.Get("Origin")
	// Under the UI's Referrer-Policy: no-referrer, Chromium sends a
	// form's POST with "Origin: null"; Sec-Fetch-Site, which no page can
	// set, then says where it came from.
	if origin == "" || origin == "null" {
		switch site := r.Header.Get("Sec-Fetch-Site"); site {
		case "same-origin":
			return nil
		case "":
			return &CSRFError{Reason: "missing Origin (and no Sec-Fetch-Site: same-origin)"}
		default:
			return &CSRFError{Reason: "cross-origin request (Sec-Fetch-Site: " + site + ")"}
		}
	}
	want := origins
	if len(want) == 0 {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		want = []string{scheme + "://" + r.Host}
	}
	got := normalOrigin(origin)
	for _, o := range want {
		if got != "" && got == normalOrigin(o) {
			return nil
		}
	}
	return &CSRFError{Reason: "foreign origin " + origin}
}

// normalOrigin is scheme://host[:port] in lower case without a default
// port, "" when o is no such origin ("null", a path, a user).
func normalOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if scheme != "http" && scheme != "https" {
		return ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port
	}
	return scheme + "://" + host
}
