package notifier

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

func TestAlertmanagerPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "alertmanager", Address: fake.URL + "/api/v2/alerts", Token: "am-t0ken"}
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityError))
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	golden(t, "alertmanager-error", got[0], "Authorization", "Content-Type")
}

// Without a token, username and password are basic auth; credentials in
// the address's userinfo are basic auth too (Flux's documented way).
func TestAlertmanagerBasicAuth(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "alertmanager", Address: fake.URL + "/api/v2/alerts", Username: "flux", Password: "pa55word"}
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if h := got[0].Header.Get("Authorization"); h != "Basic Zmx1eDpwYTU1d29yZA==" {
		t.Errorf("Authorization %q", h)
	}
	s = Settings{Type: "alertmanager", Address: strings.Replace(fake.URL, "http://", "http://flux:pa55word@", 1) + "/api/v2/alerts", AddressFromSecret: true}
	got = postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if h := got[1].Header.Get("Authorization"); h != "Basic Zmx1eDpwYTU1d29yZA==" {
		t.Errorf("Authorization from the address %q", h)
	}
	var alerts []amAlert
	if err := json.Unmarshal(got[1].Body, &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("body %s: %v", got[1].Body, err)
	}
	if alerts[0].Labels["severity"] != "info" || alerts[0].Labels["alertname"] != "FluxKustomizationHealthCheckFailed" {
		t.Errorf("labels %v", alerts[0].Labels)
	}
}

// Metadata keys become valid label names; Flux's own labels cannot be
// overwritten by a tenant's annotation; the summary is an annotation.
func TestAlertmanagerLabelNames(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Metadata = map[string]string{
		"event.toolkit.fluxcd.io/team": "payments",
		"9lives":                       "cat",
		"severity":                     "info",
		"alertname":                    "Quiet",
		"a-b":                          "first",
		"a.b":                          "second",
		"":                             "empty",
		"summary":                      "prod \"eu\"\nwest",
	}
	a := alertmanagerAlert(e)
	valid := regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	for name := range a.Labels {
		if !valid.MatchString(name) {
			t.Errorf("label %q is not a label name", name)
		}
	}
	for name, want := range map[string]string{
		"event_toolkit_fluxcd_io_team": "payments",
		"_9lives":                      "cat",
		"severity":                     "error",
		"alertname":                    "FluxKustomizationHealthCheckFailed",
		"a_b":                          "first",
		"_":                            "empty",
	} {
		if a.Labels[name] != want {
			t.Errorf("label %s = %q, want %q", name, a.Labels[name], want)
		}
	}
	if _, ok := a.Labels["summary"]; ok {
		t.Error("summary is a label")
	}
	if a.Annotations["summary"] != "prod \"eu\"\nwest" || a.Annotations["message"] != e.Message {
		t.Errorf("annotations %v", a.Annotations)
	}
}

func TestAlertmanagerFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(400, `{"code":400,"message":"invalid label set"}`)
	s := Settings{Type: "alertmanager", Address: fake.URL + "/api/v2/alerts"}
	n, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(t.Context(), testEvent(eventv1.EventSeverityError))
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "invalid label set") {
		t.Errorf("error %v, want the 400 and its reason", err)
	}
}
