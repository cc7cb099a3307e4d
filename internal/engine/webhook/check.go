// Package webhook checks the requests a Receiver's webhook takes: the
// signature, token or shape each sender type documents, the event-type
// filter, and the CEL filters that choose which objects a request
// reconciles. Secrets are compared in constant time and never appear in an
// error. It is plain Go: the server around it lives with the Receiver
// controller.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
)

// MaxBodySize is the largest request body a webhook reads, 3 MiB as Flux.
const MaxBodySize = 3 << 20

// Error is a refused request: the HTTP status to answer with and a short
// reason, which never holds a secret.
type Error struct {
	Status int
	Reason string
	// Detail is for the log only, never the answer: why a key fetch
	// failed, say, which would tell a caller about the network inside.
	Detail string
}

func (e *Error) Error() string { return e.Reason }

// refuse is a 400 with reason.
func refuse(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Reason: fmt.Sprintf(format, args...)}
}

// StatusOf is the HTTP status err asks for: an Error's, else 500.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// ReadBody reads at most MaxBodySize bytes of r; a larger body is a 413.
func ReadBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodySize+1))
	if err != nil {
		return nil, refuse("cannot read the request body")
	}
	if len(body) > MaxBodySize {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Reason: fmt.Sprintf("request body over %d bytes", MaxBodySize)}
	}
	return body, nil
}

// Request is what a check reads of an HTTP request.
type Request struct {
	Header http.Header
	Body   []byte
}

// Config is what a check needs of the Receiver: its type, event filter
// and the token of its Secret.
type Config struct {
	Type   string
	Events []string
	Token  []byte
	// GCR holds a gcr Receiver's email and audience.
	GCR GCR
	// OIDC are a generic-oidc Receiver's compiled providers.
	OIDC []*OIDCProvider
	// Keys fetches the keys of ID tokens (gcr, generic-oidc).
	Keys *Keys
}

// Result is an accepted request.
type Result struct {
	// Skip says the request was valid but asks for nothing (GitHub's ping):
	// answer 200 and annotate no object.
	Skip bool
	// Payload is the request body decoded from JSON (a form's payload
	// field for GitHub), nil when it is not JSON: CEL's 'req'.
	Payload any
	// Claims are a verified ID token's claims (gcr, generic-oidc): CEL's
	// 'claims'.
	Claims map[string]any
}

// Check verifies r as a Receiver of c.Type would: nil error means accepted.
// An unknown type is refused. ctx bounds the key fetches of ID tokens.
func Check(ctx context.Context, c Config, r Request) (Result, error) {
	switch c.Type {
	case notificationv1.GCRReceiver, notificationv1.GenericOIDCReceiver:
		if c.Keys == nil {
			return Result{}, &Error{Status: http.StatusInternalServerError, Reason: "no key source for ID tokens"}
		}
		if c.Type == notificationv1.GCRReceiver {
			return checkGCR(ctx, c, r)
		}
		return checkGenericOIDC(ctx, c, r)
	case notificationv1.GenericReceiver:
		return accepted(r.Body), nil
	case notificationv1.GenericHMACReceiver:
		return checkGenericHMAC(c, r)
	case notificationv1.GitHubReceiver:
		return checkGitHub(c, r)
	case notificationv1.GitLabReceiver:
		return checkGitLab(c, r)
	case notificationv1.BitbucketReceiver:
		return checkBitbucket(c, r)
	case notificationv1.HarborReceiver:
		return checkHarbor(c, r)
	case notificationv1.DockerHubReceiver:
		return checkShape(r, "DockerHub", "push_data", "repository")
	case notificationv1.QuayReceiver:
		return checkShape(r, "Quay", "docker_url", "updated_tags")
	case notificationv1.ACRReceiver:
		return checkShape(r, "ACR", "action", "target")
	case notificationv1.NexusReceiver:
		return checkNexus(c, r)
	case notificationv1.CDEventsReceiver:
		return checkCDEvents(c, r)
	}
	return Result{}, &Error{Status: http.StatusBadRequest, Reason: fmt.Sprintf("receiver type %q is not supported", c.Type)}
}

// accepted decodes body for CEL, if it is JSON.
func accepted(body []byte) Result { return Result{Payload: decodeJSON(body)} }

// decodeJSON is body as generic JSON, nil when it is not.
func decodeJSON(body []byte) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	if dec.More() {
		return nil
	}
	return normalise(v)
}

// normalise turns json.Number into int64 or float64, which CEL knows.
func normalise(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = normalise(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalise(e)
		}
	}
	return v
}

// allowEvent refuses an event type not in events (case-insensitive); an
// empty list allows every type.
func allowEvent(events []string, header, event string) error {
	if len(events) == 0 {
		return nil
	}
	if event == "" {
		return refuse("header %s is missing", header)
	}
	for _, e := range events {
		if strings.EqualFold(e, event) {
			return nil
		}
	}
	return refuse("event type %q (header %s) is not in spec.events", truncate(event), header)
}

// truncate bounds what a caller sent before it reaches a reason or a log.
func truncate(s string) string {
	const most = 64
	if len(s) > most {
		s = s[:most] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// formPayload is the payload field of a form-encoded body (GitHub's
// application/x-www-form-urlencoded deliveries).
func formPayload(h http.Header, body []byte) []byte {
	if !strings.HasPrefix(h.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return body
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	return []byte(form.Get("payload"))
}
