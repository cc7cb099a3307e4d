package notifier

import (
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

func TestDatadogPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "datadog", Address: fake.URL, Token: "dd-api-k3y"}
	postOnce(t, fake, s, testEvent(eventv1.EventSeverityError))
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	golden(t, "datadog-error", got[0], "Content-Type", "DD-API-KEY")
	golden(t, "datadog-info", got[1], "Content-Type", "DD-API-KEY")
}

// The site is the address; a full events URL is taken as it is.
func TestDatadogEndpoint(t *testing.T) {
	for address, want := range map[string]string{
		"https://api.datadoghq.eu":                   "https://api.datadoghq.eu/api/v1/events",
		"https://api.datadoghq.eu/":                  "https://api.datadoghq.eu/api/v1/events",
		"https://proxy.example.com/dd/api/v1/events": "https://proxy.example.com/dd/api/v1/events",
	} {
		n, err := New(Settings{Type: "datadog", Address: address, Token: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if got := n.(*datadog).endpoint; got != want {
			t.Errorf("%s: endpoint %s, want %s", address, got, want)
		}
	}
}

// Text is cut to 4000 characters and tags to 200, with no newline or
// comma a tenant could split a tag with.
func TestDatadogLimits(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Message = strings.Repeat("m", 100*1024)
	e.Metadata["team"] = "a,b\nc" + strings.Repeat("v", 500)
	p := datadogPayload(e)
	if len([]rune(p.Text)) != datadogTextLimit {
		t.Errorf("text of %d characters", len([]rune(p.Text)))
	}
	for _, tag := range p.Tags {
		if len([]rune(tag)) > datadogTagLimit || strings.ContainsAny(tag, ",\n") {
			t.Errorf("tag %q", tag)
		}
	}
}

func TestDatadogFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(403, `{"errors":["Forbidden"]}`)
	n, err := New(Settings{Type: "datadog", Address: fake.URL, Token: "dd-api-k3y"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(t.Context(), testEvent(eventv1.EventSeverityError)); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("error %v", err)
	}
}

// A tenant's eventMetadata cannot add a second namespace or kind tag.
func TestDatadogMetadataCannotPose(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Metadata["namespace"] = "kube-system"
	e.Metadata["Kind "] = "Secret"
	for _, tag := range datadogPayload(e).Tags {
		if tag == "namespace:kube-system" || strings.HasPrefix(tag, "Kind ") {
			t.Errorf("tag %q from metadata", tag)
		}
	}
	for _, tag := range grafanaPayload(e).Tags {
		if tag == "namespace: kube-system" || strings.HasPrefix(tag, "Kind ") {
			t.Errorf("grafana tag %q from metadata", tag)
		}
	}
}
