package netfail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestClassifyKinds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		kind    Kind
		detail  string
		generic bool
	}{
		{"deadline", fmt.Errorf("get index: %w", context.DeadlineExceeded), Timeout, "", false},
		{"unknown authority", x509.UnknownAuthorityError{}, TLS, "the peer's certificate is signed by an unknown authority (the hint)", false},
		{"host name", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}, TLS, "the peer's certificate is not valid for its host name", false},
		{"invalid", x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired}, TLS, "the peer's certificate is not valid", true},
		{"client certificate required", &net.OpError{Op: "remote error", Err: tls.AlertError(116)}, TLS, "the peer refused the TLS handshake (a client certificate, tls.crt and tls.key, may be required)", false},
		{"alert", tls.AlertError(40), TLS, "the TLS handshake failed", true},
		{"not TLS", tls.RecordHeaderError{}, TLS, "the peer does not speak TLS", false},
		{"dns", &net.DNSError{Name: "nowhere.invalid", IsNotFound: true}, Unreachable, "the peer's host name does not resolve", false},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, Unreachable, "connection refused", false},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), Unreachable, "", true},
		{"other", errors.New("something else"), Other, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(tc.err, "the peer", "the hint")
			want := Cause{Kind: tc.kind, Detail: tc.detail, Generic: tc.generic}
			if got != want {
				t.Errorf("Classify(%v) = %+v, want %+v", tc.err, got, want)
			}
		})
	}
}

// The errors net/http really returns are sorted as the table says.
func TestClassifyRealConnections(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, err := http.Get(srv.URL)
	if c := Classify(err, "the server", "give its CA"); c.Kind != TLS || !strings.Contains(c.Detail, "unknown authority") {
		t.Errorf("a server of an unknown CA: %+v (%v)", c, err)
	}

	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	_, err = http.Get("https://" + strings.TrimPrefix(plain.URL, "http://"))
	if c := Classify(err, "the server", ""); c.Kind != TLS || c.Detail != "HTTPS was expected but the server answered in plain HTTP" {
		t.Errorf("HTTPS to a plain HTTP server: %+v (%v)", c, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	_, err = http.Get("http://" + addr)
	if c := Classify(err, "the server", ""); c.Kind != Unreachable || c.Detail != "connection refused" {
		t.Errorf("a closed port: %+v (%v)", c, err)
	}
}
