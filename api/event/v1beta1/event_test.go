package v1beta1

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The JSON field names are Flux's: a Flux controller's post decodes, and
// ours reads the same to a Flux notification controller.
func TestEventJSON(t *testing.T) {
	e := Event{
		InvolvedObject:      corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Name: "apps", Namespace: "flux-system", UID: "u1"},
		Severity:            EventSeverityError,
		Timestamp:           metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		Message:             "health check failed",
		Reason:              "HealthCheckFailed",
		Metadata:            map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"},
		ReportingController: "kustomize-controller",
		ReportingInstance:   "driftless-controller-0",
	}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"involvedObject":{"kind":"Kustomization","namespace":"flux-system","name":"apps","uid":"u1","apiVersion":"kustomize.toolkit.fluxcd.io/v1"},` +
		`"severity":"error","timestamp":"2026-01-02T03:04:05Z","message":"health check failed","reason":"HealthCheckFailed",` +
		`"metadata":{"kustomize.toolkit.fluxcd.io/revision":"main@sha1:abc"},"reportingController":"kustomize-controller","reportingInstance":"driftless-controller-0"}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	if g, v := e.GroupVersion(); g != "kustomize.toolkit.fluxcd.io" || v != "v1" {
		t.Errorf("GroupVersion = %q, %q", g, v)
	}
	if !e.HasMetadata("kustomize.toolkit.fluxcd.io/revision", "main@sha1:abc") || e.HasMetadata("kustomize.toolkit.fluxcd.io/revision", "x") || !e.HasReason("HealthCheckFailed") {
		t.Error("HasMetadata/HasReason")
	}
	if g, v := (&Event{InvolvedObject: corev1.ObjectReference{APIVersion: "v1"}}).GroupVersion(); g != "" || v != "v1" {
		t.Errorf("core GroupVersion = %q, %q", g, v)
	}
}
