package notifier

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err   error
		retry bool
	}{
		{&StatusError{Code: 500}, true},
		{&StatusError{Code: 503}, true},
		{&StatusError{Code: 408}, true},
		{&StatusError{Code: 429}, true},
		{&StatusError{Code: 400}, false},
		{&StatusError{Code: 401}, false},
		{&StatusError{Code: 404}, false},
		{&PermanentError{Err: errors.New("bad channel")}, false},
		{errors.New("dial tcp: connection refused"), true},
		{nil, false},
	} {
		if got, _ := Retryable(c.err); got != c.retry {
			t.Errorf("Retryable(%v) = %v, want %v", c.err, got, c.retry)
		}
	}
	if _, after := Retryable(&StatusError{Code: 429, RetryAfter: 7 * time.Second}); after != 7*time.Second {
		t.Errorf("Retry-After %v", after)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for value, want := range map[string]time.Duration{
		"":                              0,
		"12":                            12 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Mon, 07 Dec 2026 10:00:30 GMT": 30 * time.Second,
		"Mon, 07 Dec 2026 09:00:00 GMT": 0,
	} {
		if got := retryAfter(value, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", value, got, want)
		}
	}
}

// An address read from a Secret is a credential: errors show its scheme
// and host only, and never a token quoted back by the service.
func TestErrorsCarryNoSecret(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(http.StatusForbidden, `{"error":"invalid token s3cr3t-t0ken"}`)
	s := Settings{Address: fake.URL + "/services/T000/B000/XXXXSECRET", AddressFromSecret: true, Token: "s3cr3t-t0ken"}
	_, err := s.postJSON(context.Background(), s.Address, map[string]string{"text": "hi"}, nil)
	if err == nil {
		t.Fatal("403 accepted")
	}
	for _, secret := range []string{"XXXXSECRET", "s3cr3t-t0ken", "/services/"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %q", err, secret)
		}
	}
	if !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "/***") {
		t.Errorf("error %q does not say 403 and the redacted address", err)
	}
	// A connection error quotes no path either.
	s.Address = "http://127.0.0.1:1/hooks/XXXXSECRET"
	_, err = s.postJSON(context.Background(), s.Address, map[string]string{}, nil)
	if err == nil || strings.Contains(err.Error(), "XXXXSECRET") {
		t.Errorf("connection error %v", err)
	}
	// An address of the spec is shown, less any password in it.
	spec := Settings{Address: "https://user:pa55word@example.com/hook"}
	if got := spec.Redact(spec.Address); got != "https://example.com/hook" {
		t.Errorf("Redact = %q", got)
	}
}

func TestUnknownTypeIsRefused(t *testing.T) {
	if _, err := New(Settings{Type: "carrier-pigeon"}); err == nil || !strings.Contains(err.Error(), `"carrier-pigeon"`) {
		t.Errorf("New = %v", err)
	}
}
