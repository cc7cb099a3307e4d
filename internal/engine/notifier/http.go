package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one attempt when the Provider sets no timeout.
const DefaultTimeout = 15 * time.Second

// maxErrorBody is how much of a failed answer's body an error quotes.
const maxErrorBody = 512

// StatusError is an answer of the service that is not a success.
type StatusError struct {
	// Code is the HTTP status (or the service's own code mapped to one).
	Code int
	// RetryAfter is the service's Retry-After, zero when it sent none.
	RetryAfter time.Duration
	// Address is where the request went, redacted as the settings say.
	Address string
	// Body is the start of the answer's body.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s answered %d %s", e.Address, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable tells whether err is worth another try, and after how long the
// service asked to wait (zero: the caller's back-off). Answers 408, 429
// and 5xx are; other answers are not; anything else (the network, a
// timeout) is.
func Retryable(err error) (bool, time.Duration) {
	if err == nil {
		return false, 0
	}
	var status *StatusError
	if errors.As(err, &status) {
		return status.Code == http.StatusRequestTimeout || status.Code == http.StatusTooManyRequests || status.Code >= 500, status.RetryAfter
	}
	var permanent *PermanentError
	if errors.As(err, &permanent) {
		return false, 0
	}
	return true, 0
}

// PermanentError is a failure another try cannot mend (a payload the
// service refuses, settings that do not work).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Redact returns address as errors may show it: whole when it came from
// the Provider's spec, its scheme and host followed by /*** when it came
// from a Secret (a webhook URL is a credential).
func (s Settings) Redact(address string) string {
	if !s.AddressFromSecret {
		return stripUserinfo(address)
	}
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return "***"
	}
	return u.Scheme + "://" + u.Host + "/***"
}

// stripUserinfo removes a password from a URL's userinfo.
func stripUserinfo(address string) string {
	u, err := url.Parse(address)
	if err != nil || u.User == nil {
		return address
	}
	u.User = nil
	return u.String()
}

// request is one HTTP request of a notifier.
type request struct {
	method, url string
	body        []byte
	header      http.Header
}

// postJSON sends v as JSON to address with the headers (Content-Type
// application/json unless given) and checks the answer is a success,
// returning its body.
func (s Settings) postJSON(ctx context.Context, address string, v any, header http.Header) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("encode the payload: %w", err)}
	}
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	return s.do(ctx, request{method: http.MethodPost, url: address, body: body, header: header})
}

// maxAnswer bounds how much of an answer a notifier reads.
const maxAnswer = 1 << 20

// do sends r and returns the body of a 2xx answer, or a StatusError.
func (s Settings) do(ctx context.Context, r request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("invalid address %s", s.Redact(r.url))}
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", r.method, s.Redact(r.url), s.scrub(errorText(err)))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", s.Redact(r.url), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{
			Code:       resp.StatusCode,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Address:    s.Redact(r.url),
			Body:       s.scrub(trim(string(data), maxErrorBody)),
		}
	}
	return data, nil
}

// errorText is err's message without the URL net/http puts in it (url.Error
// quotes the whole address, secret path included).
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// scrub removes the credentials of s from text quoted in an error.
func (s Settings) scrub(text string) string {
	for _, secret := range []string{s.Token, s.Password} {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "***")
		}
	}
	if s.AddressFromSecret && s.Address != "" {
		text = strings.ReplaceAll(text, s.Address, s.Redact(s.Address))
	}
	return text
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if n, err := strconv.Atoi(value); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(value); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// trim cuts s to n bytes at most, marking the cut.
func trim(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
