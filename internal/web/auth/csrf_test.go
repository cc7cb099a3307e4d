package auth

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCheckCSRF(t *testing.T) {
	sess := Session{ID: "id", CSRF: "the-token"}
	form := func(v string) string { return url.Values{CSRFField: {v}, "action": {"reconcile"}}.Encode() }
	tests := []struct {
		name    string
		origin  string
		site    string
		header  string
		body    string
		tls     bool
		origins []string
		want    string // "" is success
	}{
		{name: "form field and own origin", origin: "http://ui.example:9080", body: form("the-token")},
		{name: "htmx header and own origin", origin: "http://ui.example:9080", header: "the-token"},
		{name: "no Origin but same-origin fetch", site: "same-origin", header: "the-token"},
		{name: "TLS origin", tls: true, origin: "https://UI.example:9080", header: "the-token"},
		{name: "configured origin behind an ingress", origins: []string{"https://flux.example.com"},
			origin: "https://flux.example.com:443", header: "the-token"},
		{name: "missing token", origin: "http://ui.example:9080", body: "action=reconcile", want: "missing CSRF token"},
		{name: "wrong token", origin: "http://ui.example:9080", header: "other", want: "wrong CSRF token"},
		{name: "wrong token in form", origin: "http://ui.example:9080", body: form("other"), want: "wrong CSRF token"},
		{name: "foreign origin", origin: "https://evil.example", header: "the-token", want: "foreign origin https://evil.example"},
		{name: "other port", origin: "http://ui.example:9081", header: "the-token", want: "foreign origin http://ui.example:9081"},
		{name: "scheme downgrade", tls: true, origin: "http://ui.example:9080", header: "the-token", want: "foreign origin http://ui.example:9080"},
		{name: "null origin alone", origin: "null", header: "the-token", want: "missing Origin"},
		// Chromium's form POST under Referrer-Policy: no-referrer.
		{name: "null origin, same-origin fetch", origin: "null", site: "same-origin", body: form("the-token")},
		{name: "null origin, cross-site fetch (a sandboxed frame)", origin: "null", site: "cross-site", header: "the-token",
			want: "cross-origin request (Sec-Fetch-Site: cross-site)"},
		{name: "not the configured origin", origins: []string{"https://flux.example.com"},
			origin: "http://ui.example:9080", header: "the-token", want: "foreign origin http://ui.example:9080"},
		{name: "no Origin, no Sec-Fetch-Site", header: "the-token", want: "missing Origin"},
		{name: "no Origin, cross-site fetch", site: "cross-site", header: "the-token", want: "cross-origin request (Sec-Fetch-Site: cross-site)"},
		{name: "no Origin, same-site fetch", site: "same-site", header: "the-token", want: "cross-origin request (Sec-Fetch-Site: same-site)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://ui.example:9080/o/x", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.site != "" {
				r.Header.Set("Sec-Fetch-Site", tt.site)
			}
			if tt.header != "" {
				r.Header.Set(CSRFHeader, tt.header)
			}
			err := CheckCSRF(r, sess, tt.origins...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *CSRFError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *CSRFError", err)
			}
			if !strings.HasPrefix(ce.Error(), tt.want) {
				t.Errorf("reason %q, want %q", ce.Error(), tt.want)
			}
		})
	}

	// A session without a token (never made by Sessions) accepts no token.
	r := httptest.NewRequest("POST", "http://ui.example/", nil)
	r.Header.Set("Origin", "http://ui.example")
	r.Header.Set(CSRFHeader, "x")
	if err := CheckCSRF(r, Session{}); err == nil {
		t.Error("an empty session CSRF token matched")
	}
}

func TestCheckCSRFBoundsTheForm(t *testing.T) {
	body := CSRFField + "=" + strings.Repeat("a", maxFormBytes+10)
	r := httptest.NewRequest("POST", "http://ui.example/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://ui.example")
	var ce *CSRFError
	if err := CheckCSRF(r, Session{CSRF: strings.Repeat("a", maxFormBytes+10-len(CSRFField)-1)}); !errors.As(err, &ce) {
		t.Errorf("an oversized form was read whole: %v", err)
	}
}
