package notifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Sentry's documented limits: a message's formatted text is at most
// 8192 characters, a tag value 200.
const (
	sentryMessageLimit = 8192
	sentryTagLimit     = 200
)

// sentry sends an event to the Sentry project its DSN (the address)
// names, as an envelope to the envelope endpoint the DSN implies (the
// store endpoint is what Sentry's SDKs have moved off), with the
// X-Sentry-Auth header: the level is the severity, the channel the
// environment.
type sentry struct {
	s        Settings
	envelope string
	auth     string
}

func newSentry(s Settings) (Notifier, error) {
	u, err := httpAddress(s)
	if err != nil {
		return nil, err
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("sentry provider: the address %s is not a DSN: it has no public key (https://<key>@<host>/<project>)", addressSource(s))
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(path, "/")
	project := path[i+1:]
	if project == "" {
		return nil, fmt.Errorf("sentry provider: the address %s is not a DSN: it names no project (https://<key>@<host>/<project>)", addressSource(s))
	}
	envelope := url.URL{Scheme: u.Scheme, Host: u.Host, Path: path[:i+1] + "api/" + project + "/envelope/"}
	key := u.User.Username()
	auth := "Sentry sentry_version=7, sentry_client=driftless-notifier/1.0, sentry_key=" + key
	// The DSN's keys are credentials: errors scrub them like a token.
	s.Token = key
	if secret, ok := u.User.Password(); ok {
		auth += ", sentry_secret=" + secret
		s.Password = secret
	}
	return &sentry{s: s, envelope: envelope.String(), auth: auth}, nil
}

// sentryEvent is the payload of an event item.
type sentryEvent struct {
	EventID     string            `json:"event_id"`
	Timestamp   string            `json:"timestamp"`
	Platform    string            `json:"platform"`
	Level       string            `json:"level"`
	Logger      string            `json:"logger"`
	Transaction string            `json:"transaction"`
	Environment string            `json:"environment,omitempty"`
	ServerName  string            `json:"server_name,omitempty"`
	LogEntry    sentryLogEntry    `json:"logentry"`
	Tags        map[string]string `json:"tags"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// sentryLogEntry is the message interface.
type sentryLogEntry struct {
	Formatted string `json:"formatted"`
}

func (n *sentry) Post(ctx context.Context, e eventv1.Event) error {
	body, err := sentryEnvelope(sentryPayload(e, n.s.Channel))
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("encode the Sentry envelope: %w", err)}
	}
	header := http.Header{}
	header.Set("Content-Type", "application/x-sentry-envelope")
	header.Set("X-Sentry-Auth", n.auth)
	_, err = n.s.do(ctx, request{method: http.MethodPost, url: n.envelope, body: body, header: header})
	return err
}

// sentryEnvelope is an envelope of one event item: the envelope's header
// line, the item's header line with the payload's length, the payload.
func sentryEnvelope(ev sentryEvent) ([]byte, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	head, err := json.Marshal(map[string]string{"event_id": ev.EventID})
	if err != nil {
		return nil, err
	}
	item, err := json.Marshal(map[string]any{"type": "event", "length": len(payload)})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, line := range [][]byte{head, item, payload} {
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func sentryPayload(e eventv1.Event, environment string) sentryEvent {
	level := "info"
	if e.Severity == eventv1.EventSeverityError {
		level = "error"
	}
	ts := e.Timestamp.UTC()
	if e.Timestamp.IsZero() {
		ts = time.Now().UTC()
	}
	tags := map[string]string{}
	for k, v := range map[string]string{
		"kind": e.InvolvedObject.Kind, "name": e.InvolvedObject.Name, "namespace": e.InvolvedObject.Namespace,
		"reason": e.Reason, "severity": e.Severity,
	} {
		tags[k] = sentryTagValue(v)
	}
	extra := map[string]string{}
	for k, v := range e.Metadata {
		extra[k] = v
	}
	return sentryEvent{
		EventID:     sentryEventID(e),
		Timestamp:   ts.Format(time.RFC3339),
		Platform:    "other",
		Level:       level,
		Logger:      e.ReportingController,
		Transaction: objectRef(e),
		Environment: environment,
		ServerName:  e.ReportingInstance,
		LogEntry:    sentryLogEntry{Formatted: cutRunes(e.Message, sentryMessageLimit)},
		Tags:        tags,
		Extra:       extra,
	}
}

// sentryEventID is 32 hex digits derived from the event, so a retried
// post is the same Sentry event, not a second one.
func sentryEventID(e eventv1.Event) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		string(e.InvolvedObject.UID), e.Timestamp.UTC().Format(time.RFC3339Nano), e.Reason, e.Severity, e.Message,
	}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// sentryTagValue is v as a tag value: one line, at most 200 characters.
func sentryTagValue(v string) string {
	return cutRunes(strings.NewReplacer("\n", " ", "\r", " ").Replace(v), sentryTagLimit)
}
