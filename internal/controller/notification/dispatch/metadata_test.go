package dispatch

import (
	"context"
	"maps"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// TestCleanMetadata keeps the object's group and event.toolkit.fluxcd.io
// keys, less checksum, digest and token.
func TestCleanMetadata(t *testing.T) {
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityInfo, "ok")
	e.Metadata = map[string]string{
		ksGroup + "/revision":                  "main@sha1:0123",
		ksGroup + "/originRevision":            "v1.2.3@sha256:ab",
		ksGroup + "/checksum":                  "deadbeef",
		ksGroup + "/digest":                    "sha256:ab",
		ksGroup + "/token":                     "tok",
		ksGroup + "/commit_status":             "update",
		"event.toolkit.fluxcd.io/env":          "prod",
		"source.toolkit.fluxcd.io/revision":    "another group",
		"helm.toolkit.fluxcd.io/token":         "another group",
		"revision":                             "no group",
		"kustomize.toolkit.fluxcd.io.evil/key": "not the group",
	}
	want := map[string]string{
		ksGroup + "/revision":         "main@sha1:0123",
		ksGroup + "/originRevision":   "v1.2.3@sha256:ab",
		ksGroup + "/commit_status":    "update",
		"event.toolkit.fluxcd.io/env": "prod",
	}
	if got := cleanMetadata(&e); !maps.Equal(got, want) {
		t.Errorf("cleanMetadata = %v, want %v", got, want)
	}

	// An event without apiVersion keeps only the annotations.
	e.InvolvedObject.APIVersion = ""
	if got := cleanMetadata(&e); !maps.Equal(got, map[string]string{"event.toolkit.fluxcd.io/env": "prod"}) {
		t.Errorf("without apiVersion: %v", got)
	}
}

// TestMergeMetadata: annotations < eventMetadata < summary < controller,
// and a conflict is reported.
func TestMergeMetadata(t *testing.T) {
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	cleaned := map[string]string{
		ksGroup + "/revision":             "main@sha1:0123",
		"event.toolkit.fluxcd.io/env":     "from-annotation",
		"event.toolkit.fluxcd.io/cluster": "eu-1",
	}
	alert := alertObj("a", "p")

	got, conflict := mergeMetadata(&e, cleaned, alert)
	if conflict != "" || !maps.Equal(got, cleaned) {
		t.Fatalf("no Alert metadata: %v %q", got, conflict)
	}

	alert.Spec.EventMetadata = map[string]string{"team": "payments", "summary": "from-eventMetadata"}
	alert.Spec.Summary = "from-summary"
	got, conflict = mergeMetadata(&e, cleaned, alert)
	if got["summary"] != "from-summary" || got["team"] != "payments" {
		t.Errorf("summary must win over eventMetadata: %v", got)
	}
	if !strings.Contains(conflict, `"summary"`) || !strings.Contains(conflict, "spec.summary") || !strings.Contains(conflict, "spec.eventMetadata") {
		t.Errorf("conflict %q: want the key and both sources named", conflict)
	}

	alert.Spec.Summary = ""
	alert.Spec.EventMetadata = map[string]string{
		"event.toolkit.fluxcd.io/env": "from-alert",
		ksGroup + "/revision":         "forged",
	}
	got, conflict = mergeMetadata(&e, cleaned, alert)
	if got["event.toolkit.fluxcd.io/env"] != "from-alert" {
		t.Errorf("eventMetadata must win over annotations: %v", got)
	}
	if got[ksGroup+"/revision"] != "main@sha1:0123" {
		t.Errorf("the controller's metadata must win over the Alert's: %v", got)
	}
	if !strings.Contains(conflict, ksGroup+"/revision") || !strings.Contains(conflict, "event.toolkit.fluxcd.io/env") {
		t.Errorf("conflict %q: want both keys", conflict)
	}

	// The same value twice is no conflict.
	alert.Spec.EventMetadata = map[string]string{"event.toolkit.fluxcd.io/cluster": "eu-1"}
	if _, conflict = mergeMetadata(&e, cleaned, alert); conflict != "" {
		t.Errorf("equal values reported as a conflict: %q", conflict)
	}
}

// TestMetadataAppendFailed: a conflict reaches the Alert as one Warning
// event, and the event still goes out with the winning values.
func TestMetadataAppendFailed(t *testing.T) {
	alert := alertObj("slack", "slack", source("Kustomization", "apps"))
	alert.Spec.EventMetadata = map[string]string{ksGroup + "/revision": "forged", "env": "prod"}
	h := newHarness(t, []client.Object{alert, providerObj("slack", "slack")}, nil, nil)
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	e.Metadata[ksGroup+"/token"] = "secret-token"
	var items []item
	for range 2 {
		items = h.d.selectItems(context.Background(), queued{event: e})
	}
	if len(items) != 1 {
		t.Fatalf("deliveries %v", names(items))
	}
	want := map[string]string{ksGroup + "/revision": "main@sha1:0123", "env": "prod"}
	if got := items[0].event.Metadata; !maps.Equal(got, want) {
		t.Errorf("metadata %v, want %v", got, want)
	}
	events := h.sink.withReason(MetadataAppendFailedReason)
	if len(events) != 1 || events[0].eventType != "Warning" || events[0].object != "Alert/flux-system/slack" {
		t.Fatalf("MetadataAppendFailed events %v, want one Warning on the Alert", events)
	}
	if strings.Contains(events[0].message, "secret-token") {
		t.Errorf("event quotes the token: %q", events[0].message)
	}
	if e.Metadata[ksGroup+"/token"] != "secret-token" {
		t.Errorf("the submitted event's metadata was changed")
	}
}

// TestRoute checks the commit-status and change-request routing.
func TestRoute(t *testing.T) {
	withMeta := func(severity string, kv ...string) *eventv1.Event {
		e := ksEvent("flux-system", "apps", severity, "m")
		e.Metadata = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Metadata[kv[i]] = kv[i+1]
		}
		return &e
	}
	update := withMeta(eventv1.EventSeverityInfo, ksGroup+"/commit_status", "update")
	plainInfo := withMeta(eventv1.EventSeverityInfo)
	plainError := withMeta(eventv1.EventSeverityError)
	commit := withMeta(eventv1.EventSeverityInfo, "event.toolkit.fluxcd.io/commit", "abc")
	changeRequest := withMeta(eventv1.EventSeverityInfo, "event.toolkit.fluxcd.io/change_request", "12")
	otherGroupUpdate := withMeta(eventv1.EventSeverityInfo, "source.toolkit.fluxcd.io/commit_status", "update")

	tests := []struct {
		typ   string
		event *eventv1.Event
		want  bool
	}{
		{v1beta3.GitHubProvider, update, true},
		{v1beta3.GitLabProvider, plainError, true},
		{v1beta3.GiteaProvider, commit, true},
		{v1beta3.BitbucketProvider, plainInfo, false},
		{v1beta3.BitbucketServerProvider, otherGroupUpdate, false},
		{v1beta3.AzureDevOpsProvider, update, true},
		{v1beta3.GenericProvider, update, true},
		{v1beta3.GenericHMACProvider, update, true},
		{v1beta3.SlackProvider, update, true},
		{v1beta3.PagerDutyProvider, update, true},
		{v1beta3.SlackProvider, plainInfo, true},
		{v1beta3.SlackProvider, otherGroupUpdate, true},
		{v1beta3.GitHubPullRequestCommentProvider, changeRequest, true},
		{v1beta3.GitLabMergeRequestCommentProvider, plainError, false},
		{v1beta3.GiteaPullRequestCommentProvider, update, false},
	}
	for _, tt := range tests {
		got, why := route(tt.typ, tt.event)
		if got != tt.want {
			t.Errorf("route(%s, %v) = %v (%s), want %v", tt.typ, tt.event.Metadata, got, why, tt.want)
		}
		if !got && why == "" {
			t.Errorf("route(%s, %v) gives no reason for the drop", tt.typ, tt.event.Metadata)
		}
	}
}
