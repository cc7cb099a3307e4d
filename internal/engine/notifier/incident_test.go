package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// send builds the notifier of s, posts e and returns what the fake got.
func postOnce(t *testing.T, fake *fakeService, s Settings, e eventv1.Event) []recorded {
	t.Helper()
	n, err := New(s)
	if err != nil {
		t.Fatalf("New(%s): %v", s.Type, err)
	}
	if err := n.Post(context.Background(), e); err != nil {
		t.Fatalf("Post(%s): %v", s.Type, err)
	}
	return fake.received()
}

// incidentSettings are working settings of each incident type (and
// otel) against the fake, with the credentials each one needs.
func incidentSettings(fake *fakeService) map[string]Settings {
	host := strings.TrimPrefix(fake.URL, "http://")
	return map[string]Settings{
		"alertmanager": {Type: "alertmanager", Address: fake.URL + "/api/v2/alerts", Token: "am-t0ken"},
		"pagerduty":    {Type: "pagerduty", Address: fake.URL, Channel: "R0UTINGKEY"},
		"opsgenie":     {Type: "opsgenie", Address: fake.URL + "/v2/alerts", Token: "genie-t0ken"},
		"incident.io":  {Type: "incident.io", Address: fake.URL + "/v2/alert_events/http/01SOURCE", Token: "iio-t0ken"},
		"datadog":      {Type: "datadog", Address: fake.URL, Token: "dd-api-k3y"},
		"grafana":      {Type: "grafana", Address: fake.URL + "/api/annotations", Token: "graf-t0ken"},
		"sentry":       {Type: "sentry", Address: "http://pubk3y123@" + host + "/42", AddressFromSecret: true, Channel: "staging"},
		"otel":         {Type: "otel", Address: fake.URL + "/v1/traces", Token: "otel-t0ken"},
	}
}

func TestIncidentTypesRegistered(t *testing.T) {
	types := map[string]bool{}
	for _, name := range Types() {
		types[name] = true
	}
	for _, name := range []string{"alertmanager", "pagerduty", "opsgenie", "incident.io", "datadog", "grafana", "sentry", "otel"} {
		if !types[name] {
			t.Errorf("type %s is not registered", name)
		}
	}
}

// Settings a type cannot work with are refused by New, the error naming
// the field or Secret key to set and never quoting the address.
func TestIncidentSettingsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Settings
		want string
	}{
		{"alertmanager without address", Settings{Type: "alertmanager"}, "set spec.address or the address key"},
		{"alertmanager with a relative address", Settings{Type: "alertmanager", Address: "/api/v2/alerts"}, "not an http or https URL"},
		{"alertmanager with another scheme", Settings{Type: "alertmanager", Address: "file:///etc/passwd"}, "not an http or https URL"},
		{"pagerduty without routing key", Settings{Type: "pagerduty"}, "set spec.channel"},
		{"pagerduty with a bad address", Settings{Type: "pagerduty", Address: "events.pagerduty.com", Channel: "k"}, "not an http or https URL"},
		{"opsgenie without token", Settings{Type: "opsgenie", Address: "https://api.opsgenie.com/v2/alerts"}, "token key of the Secret"},
		{"opsgenie without address", Settings{Type: "opsgenie", Token: "t"}, "set spec.address"},
		{"incident.io without token", Settings{Type: "incident.io", Address: "https://api.incident.io/v2/alert_events/http/x"}, "token key of the Secret"},
		{"datadog without token", Settings{Type: "datadog", Address: "https://api.datadoghq.com"}, "token key of the Secret"},
		{"grafana without address", Settings{Type: "grafana", Token: "t"}, "set spec.address"},
		{"sentry without key", Settings{Type: "sentry", Address: "https://sentry.example.com/42", AddressFromSecret: true}, "no public key"},
		{"sentry without project", Settings{Type: "sentry", Address: "https://k3y@sentry.example.com/", AddressFromSecret: true}, "names no project"},
		{"sentry DSN from the Secret, broken", Settings{Type: "sentry", Address: "ht!tp://s3cr3tk3y@x/1", AddressFromSecret: true}, "from the Secret's address key"},
		{"otel without address", Settings{Type: "otel"}, "set spec.address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.s)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.s.Type+" provider: ") {
				t.Errorf("error %q, want it to start with %q and name %q", err, c.s.Type+" provider: ", c.want)
			}
			if c.s.Address != "" && strings.Contains(err.Error(), c.s.Address) {
				t.Errorf("error %q quotes the address", err)
			}
		})
	}
}

// A service refusing the credentials: a permanent failure naming the
// answer, with no credential in it even when the service quotes it back.
func TestIncidentRefusedCredentialsCarryNoSecret(t *testing.T) {
	fake := newFakeService(t)
	for name, s := range incidentSettings(fake) {
		t.Run(name, func(t *testing.T) {
			secrets := []string{s.Token}
			if name == "sentry" {
				secrets = []string{"pubk3y123"}
			}
			fake.answerWith(http.StatusUnauthorized, `{"error":"bad credentials `+strings.Join(secrets, " ")+`"}`)
			n, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			err = n.Post(context.Background(), testEvent(eventv1.EventSeverityError))
			var status *StatusError
			if !errors.As(err, &status) || status.Code != http.StatusUnauthorized {
				t.Fatalf("error %v, want a 401 StatusError", err)
			}
			if retry, _ := Retryable(err); retry {
				t.Error("a refused credential is retried")
			}
			for _, secret := range secrets {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q carries the credential %q", err, secret)
				}
			}
		})
	}
}

// A 100 KB message with quotes, newlines and markup: every payload is
// valid JSON, within the service's documented limit, and carries the
// quotes as text (no injected field).
func TestIncidentOversizedHostileMessage(t *testing.T) {
	fake := newFakeService(t)
	e := testEvent(eventv1.EventSeverityError)
	e.Message = `"}],"injected":true,"x":["` + "\nline two\r\n</script>" + strings.Repeat("é", 50*1024)
	e.Metadata["bad key\"\n{}"] = "value\"\n}"
	for name, s := range incidentSettings(fake) {
		t.Run(name, func(t *testing.T) {
			before := len(fake.received())
			got := postOnce(t, fake, s, e)[before:]
			if len(got) == 0 {
				t.Fatal("nothing sent")
			}
			for _, r := range got {
				if name == "sentry" {
					checkEnvelope(t, r.Body)
					r.Body = r.Body[strings.LastIndexByte(strings.TrimSuffix(string(r.Body), "\n"), '\n')+1:]
				}
				var v any
				if err := json.Unmarshal(r.Body, &v); err != nil {
					t.Fatalf("invalid JSON: %v", err)
				}
				if strings.Contains(string(r.Body), `"injected":true`) {
					t.Error("the message broke out of its string")
				}
				if len(r.Body) > 2*eventv1.MaxMessageLength*2+8192 {
					t.Errorf("body of %d bytes: the message was not cut", len(r.Body))
				}
			}
		})
	}
}
