package notifier

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/types"
)

// FuzzIncidentPayloads feeds every incident formatter (and otel's) events
// with whatever text a tenant controls: none panics, each payload is
// valid JSON, Alertmanager's label names stay valid and the documented
// limits hold.
func FuzzIncidentPayloads(f *testing.F) {
	f.Add("Kustomization", "apps", "HealthCheckFailed", "Health check failed", "kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc", "error")
	f.Add("", "", "", "", "", "", "info")
	f.Add("Helm\"Release", "a\nb", "Re</ason>", `"}],"x":1,[{"`, "9key.with/odd chars", "v\x00\xff", "error")
	f.Add("K", "n", "r", strings.Repeat("ü", 5000), "summary", strings.Repeat("s", 300), "info")
	valid := regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	f.Fuzz(func(t *testing.T, kind, name, reason, msg, key, value, severity string) {
		e := testEvent(severity)
		e.InvolvedObject.Kind, e.InvolvedObject.Name, e.InvolvedObject.UID = kind, name, types.UID(name)
		e.Reason, e.Message = reason, msg
		e.Metadata[key] = value
		payloads := map[string]any{
			"alertmanager": []amAlert{alertmanagerAlert(e)},
			"pagerduty":    pagerDutyPayload(e),
			"opsgenie":     opsgeniePayload(e),
			"incident.io":  incidentIOPayload(e),
			"datadog":      datadogPayload(e),
			"grafana":      grafanaPayload(e),
			"sentry":       sentryPayload(e, value),
			"otel":         otelPayload(e),
		}
		for typ, p := range payloads {
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			if !json.Valid(data) || !utf8.Valid(data) {
				t.Fatalf("%s: invalid JSON %q", typ, data)
			}
		}
		for label := range alertmanagerAlert(e).Labels {
			if !valid.MatchString(label) {
				t.Fatalf("alertmanager label name %q", label)
			}
		}
		if n := utf8.RuneCountInString(pagerDutyPayload(e).Summary); n > pagerDutySummaryLimit {
			t.Fatalf("pagerduty summary of %d characters", n)
		}
		if n := utf8.RuneCountInString(opsgeniePayload(e).Message); n > opsgenieMessageLimit {
			t.Fatalf("opsgenie message of %d characters", n)
		}
		for _, tag := range opsgeniePayload(e).Tags {
			if tag == "" || utf8.RuneCountInString(tag) > opsgenieTagLimit {
				t.Fatalf("opsgenie tag %q", tag)
			}
		}
		for _, tag := range datadogPayload(e).Tags {
			if utf8.RuneCountInString(tag) > datadogTagLimit || strings.ContainsAny(tag, ",\n") {
				t.Fatalf("datadog tag %q", tag)
			}
		}
		if envelope, err := sentryEnvelope(sentryPayload(e, value)); err != nil || strings.Count(string(envelope), "\n") != 3 {
			t.Fatalf("sentry envelope %q: %v", envelope, err)
		}
		if n := utf8.RuneCountInString(sentryPayload(e, "").LogEntry.Formatted); n > sentryMessageLimit {
			t.Fatalf("sentry message of %d characters", n)
		}
	})
}
