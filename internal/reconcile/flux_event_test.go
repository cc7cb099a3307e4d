package reconcile

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/scheme"
)

func TestFluxEventConversion(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	src := EventSource{Scheme: s, Component: "kustomize-controller", Instance: "pod-1"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ks := func(annotations map[string]string) *kustomizev1.Kustomization {
		return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{
			Name: "apps", Namespace: "flux-system", UID: "0c5c5d2e-1111", ResourceVersion: "42", Annotations: annotations}}
	}
	long := strings.Repeat("é", eventv1.MaxMessageLength+10)
	cases := []struct {
		name        string
		obj         *kustomizev1.Kustomization
		annotations map[string]string
		eventType   string
		message     string
		wantOK      bool
		severity    string
		metadata    map[string]string
		messageLen  int
	}{
		{name: "warning is error", obj: ks(nil), eventType: corev1.EventTypeWarning, message: "build failed",
			wantOK: true, severity: eventv1.EventSeverityError, messageLen: len("build failed")},
		{name: "normal is info with the pass's metadata", obj: ks(nil), eventType: corev1.EventTypeNormal, message: "ok",
			annotations: map[string]string{kustomizev1.RevisionEventKey: "main@sha1:abc"},
			wantOK:      true, severity: eventv1.EventSeverityInfo, messageLen: 2,
			metadata: map[string]string{kustomizev1.RevisionEventKey: "main@sha1:abc"}},
		{name: "object's event annotations join, others do not, the controller's keys win", eventType: corev1.EventTypeNormal, message: "ok",
			obj: ks(map[string]string{
				"event.toolkit.fluxcd.io/env":                "prod",
				"event.toolkit.fluxcd.io/commit":             "deadbeef",
				"kustomize.toolkit.fluxcd.io/revision":       "spoofed",
				"example.com/other":                          "no",
				"event.toolkit.fluxcd.io.evil.example/trick": "no",
			}),
			annotations: map[string]string{kustomizev1.RevisionEventKey: "main@sha1:abc"},
			wantOK:      true, severity: eventv1.EventSeverityInfo, messageLen: 2,
			metadata: map[string]string{
				kustomizev1.RevisionEventKey:     "main@sha1:abc",
				"event.toolkit.fluxcd.io/env":    "prod",
				"event.toolkit.fluxcd.io/commit": "deadbeef",
			}},
		{name: "other types are not notified", obj: ks(nil), eventType: "Trace", message: "x"},
		{name: "long message cut on a character", obj: ks(nil), eventType: corev1.EventTypeWarning, message: long,
			wantOK: true, severity: eventv1.EventSeverityError, messageLen: eventv1.MaxMessageLength * len("é")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok := src.FluxEvent(c.obj, c.annotations, c.eventType, "Reason", c.message, now)
			if ok != c.wantOK {
				t.Fatalf("ok = %v, want %v", ok, c.wantOK)
			}
			if !ok {
				return
			}
			want := corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization",
				Name: "apps", Namespace: "flux-system", UID: "0c5c5d2e-1111", ResourceVersion: "42"}
			if e.InvolvedObject != want {
				t.Errorf("involvedObject = %+v, want %+v", e.InvolvedObject, want)
			}
			if e.Severity != c.severity || e.Reason != "Reason" || e.ReportingController != "kustomize-controller" ||
				e.ReportingInstance != "pod-1" || !e.Timestamp.Time.Equal(now) {
				t.Errorf("event = %+v", e)
			}
			if len(e.Message) != c.messageLen || !strings.HasPrefix(c.message, e.Message) {
				t.Errorf("message of %d bytes, want %d, a prefix of the original", len(e.Message), c.messageLen)
			}
			if len(e.Metadata) != len(c.metadata) {
				t.Errorf("metadata = %v, want %v", e.Metadata, c.metadata)
			}
			for k, v := range c.metadata {
				if e.Metadata[k] != v {
					t.Errorf("metadata[%s] = %q, want %q", k, e.Metadata[k], v)
				}
			}
		})
	}
}

// The event is Flux's JSON: what a Flux notification-controller decodes.
func TestFluxEventJSON(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	src := EventSource{Scheme: s, Component: "kustomize-controller", Instance: "pod-1"}
	obj := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system", UID: "u"}}
	e, _ := src.FluxEvent(obj, map[string]string{kustomizev1.RevisionEventKey: "main@sha1:abc"}, corev1.EventTypeWarning, "BuildFailed", "boom",
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"involvedObject":{"kind":"Kustomization","namespace":"flux-system","name":"apps","uid":"u","apiVersion":"kustomize.toolkit.fluxcd.io/v1"},` +
		`"severity":"error","timestamp":"2026-01-02T03:04:05Z","message":"boom","reason":"BuildFailed",` +
		`"metadata":{"kustomize.toolkit.fluxcd.io/revision":"main@sha1:abc"},"reportingController":"kustomize-controller","reportingInstance":"pod-1"}`
	if string(data) != want {
		t.Errorf("JSON\n got %s\nwant %s", data, want)
	}
}
