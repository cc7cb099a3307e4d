package dispatch

import (
	"context"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// TestMatchRules checks each rule of Flux's Alert matching (§6.2): an
// event reaches the Alert's Provider or not.
func TestMatchRules(t *testing.T) {
	info := ksEvent("flux-system", "apps", eventv1.EventSeverityInfo, "Applied revision: main@sha1:0123, reconciliation finished in 2s, next run in 1m")
	errEvent := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "kustomization path not found: ./staging")
	inTenant := ksEvent("tenant", "apps", eventv1.EventSeverityError, "build failed")
	labelled := ksEvent("flux-system", "labelled", eventv1.EventSeverityError, "build failed")
	unlabelled := ksEvent("flux-system", "plain", eventv1.EventSeverityError, "build failed")
	gone := ksEvent("flux-system", "gone", eventv1.EventSeverityError, "build failed")

	tests := []struct {
		name     string
		alert    func(*v1beta3.Alert)
		lockdown bool
		event    eventv1.Event
		want     bool
	}{
		{name: "name equal", event: errEvent, want: true},
		{name: "name differs", alert: func(a *v1beta3.Alert) { a.Spec.EventSources[0].Name = "other" }, event: errEvent},
		{name: "wildcard name", alert: func(a *v1beta3.Alert) { a.Spec.EventSources[0].Name = "*" }, event: errEvent, want: true},
		{name: "kind differs", alert: func(a *v1beta3.Alert) { a.Spec.EventSources[0].Kind = "GitRepository" }, event: errEvent},
		{name: "namespace defaults to the Alert's", event: inTenant,
			alert: func(a *v1beta3.Alert) { a.Spec.EventSources[0].Name = "*" }},
		{name: "explicit namespace", event: inTenant, want: true,
			alert: func(a *v1beta3.Alert) { a.Spec.EventSources[0].Namespace = "tenant" }},
		{name: "lockdown refuses another namespace", event: inTenant, lockdown: true,
			alert: func(a *v1beta3.Alert) { a.Spec.EventSources[0].Namespace = "tenant" }},
		{name: "lockdown keeps the Alert's namespace", event: errEvent, lockdown: true, want: true},
		{name: "second source matches", event: errEvent, want: true, alert: func(a *v1beta3.Alert) {
			a.Spec.EventSources = []notificationv1.CrossNamespaceObjectReference{source("GitRepository", "*"), source("Kustomization", "apps")}
		}},
		{name: "severity info takes info", event: info, want: true},
		{name: "severity info takes errors", event: errEvent, want: true,
			alert: func(a *v1beta3.Alert) { a.Spec.EventSeverity = "info" }},
		{name: "severity error drops info", event: info, alert: func(a *v1beta3.Alert) { a.Spec.EventSeverity = "error" }},
		{name: "severity error takes errors", event: errEvent, want: true, alert: func(a *v1beta3.Alert) { a.Spec.EventSeverity = "error" }},
		{name: "suspended", event: errEvent, alert: func(a *v1beta3.Alert) { a.Spec.Suspend = true }},
		{name: "matchLabels match", event: labelled, want: true, alert: func(a *v1beta3.Alert) {
			a.Spec.EventSources[0] = notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*", MatchLabels: map[string]string{"team": "payments"}}
		}},
		{name: "matchLabels differ", event: unlabelled, alert: func(a *v1beta3.Alert) {
			a.Spec.EventSources[0] = notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*", MatchLabels: map[string]string{"team": "payments"}}
		}},
		{name: "matchLabels object gone", event: gone, alert: func(a *v1beta3.Alert) {
			a.Spec.EventSources[0] = notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*", MatchLabels: map[string]string{"team": "payments"}}
		}},
		{name: "inclusion matches", event: info, want: true,
			alert: func(a *v1beta3.Alert) { a.Spec.InclusionList = []string{"^nothing$", ".*reconciliation.*"} }},
		{name: "inclusion is case-sensitive", event: info,
			alert: func(a *v1beta3.Alert) { a.Spec.InclusionList = []string{".*Reconciliation.*"} }},
		{name: "exclusion matches", event: errEvent,
			alert: func(a *v1beta3.Alert) { a.Spec.ExclusionList = []string{"staging"} }},
		{name: "exclusion wins over inclusion", event: errEvent, alert: func(a *v1beta3.Alert) {
			a.Spec.InclusionList = []string{"path"}
			a.Spec.ExclusionList = []string{"staging"}
		}},
		{name: "exclusion not matching", event: errEvent, want: true,
			alert: func(a *v1beta3.Alert) { a.Spec.ExclusionList = []string{"production"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alert := alertObj("slack", "slack", source("Kustomization", "apps"))
			if tt.alert != nil {
				tt.alert(alert)
			}
			objs := []client.Object{alert, providerObj("slack", "slack"),
				kustomization("flux-system", "labelled", map[string]string{"team": "payments"}),
				kustomization("flux-system", "plain", map[string]string{"team": "web"})}
			h := newHarness(t, objs, nil, func(c *Config) { c.NoCrossNamespaceRefs = tt.lockdown })
			got := h.d.selectItems(context.Background(), queued{event: tt.event})
			if (len(got) == 1) != tt.want || len(got) > 1 {
				t.Fatalf("deliveries %v, want delivered=%v", names(got), tt.want)
			}
		})
	}
}

// TestMatchInvalidRegex: a pattern that does not compile sends nothing and
// gives one Warning event per Alert generation, naming the field.
func TestMatchInvalidRegex(t *testing.T) {
	alert := alertObj("slack", "slack", source("Kustomization", "apps"))
	alert.Spec.InclusionList = []string{".*", "([a-z"}
	h := newHarness(t, []client.Object{alert, providerObj("slack", "slack")}, nil, nil)
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	for range 3 {
		if got := h.d.selectItems(context.Background(), queued{event: e}); len(got) != 0 {
			t.Fatalf("invalid Alert delivered %v", names(got))
		}
	}
	events := h.sink.withReason(InvalidRegexReason)
	if len(events) != 1 {
		t.Fatalf("got %d %s events, want 1: %v", len(events), InvalidRegexReason, events)
	}
	if ev := events[0]; ev.eventType != "Warning" || ev.object != "Alert/flux-system/slack" || !strings.Contains(ev.message, "spec.inclusionList[1]") {
		t.Errorf("event %+v: want a Warning on Alert/flux-system/slack naming spec.inclusionList[1]", ev)
	}

	// A new generation with the same mistake is reported again; fixed, it sends.
	alert.Generation = 2
	alert.Spec.ExclusionList = []string{"(?P<x"}
	alert.Spec.InclusionList = nil
	if err := h.reader.Update(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	h.d.selectItems(context.Background(), queued{event: e})
	events = h.sink.withReason(InvalidRegexReason)
	if len(events) != 2 || !strings.Contains(events[1].message, "spec.exclusionList[0]") {
		t.Fatalf("after a new generation: %v, want a second event naming spec.exclusionList[0]", events)
	}
	alert.Generation = 3
	alert.Spec.ExclusionList = []string{"staging"}
	if err := h.reader.Update(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	if got := h.d.selectItems(context.Background(), queued{event: e}); len(got) != 1 {
		t.Fatalf("fixed Alert delivered %v, want one", names(got))
	}
}

// TestMatchProviders: a missing Provider gives one event per Alert
// generation; a suspended one is skipped; each Alert is its own delivery.
func TestMatchProviders(t *testing.T) {
	suspended := providerObj("paused", "slack")
	suspended.Spec.Suspend = true
	objs := []client.Object{
		alertObj("to-missing", "missing", source("Kustomization", "apps")),
		alertObj("to-paused", "paused", source("Kustomization", "apps")),
		alertObj("to-slack", "slack", source("Kustomization", "*")),
		alertObj("to-slack-too", "slack", source("Kustomization", "apps")),
		alertObj("other-kind", "slack", source("HelmRelease", "*")),
		suspended, providerObj("slack", "slack"),
	}
	h := newHarness(t, objs, nil, nil)
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	var got []item
	for range 2 {
		got = h.d.selectItems(context.Background(), queued{event: e})
	}
	gotNames := names(got)
	slices.Sort(gotNames)
	if want := []string{"to-slack->slack", "to-slack-too->slack"}; !slices.Equal(gotNames, want) {
		t.Errorf("deliveries %v, want %v", gotNames, want)
	}
	missing := h.sink.withReason(ProviderNotFoundReason)
	if len(missing) != 1 || missing[0].object != "Alert/flux-system/to-missing" || !strings.Contains(missing[0].message, "spec.providerRef.name") {
		t.Errorf("ProviderNotFound events %v, want one on to-missing naming spec.providerRef.name", missing)
	}
	if n := h.delivered("slack", resultDropped, dropSuspended); n != 2 {
		t.Errorf("dropped{provider_suspended} = %d, want 2", n)
	}
}
