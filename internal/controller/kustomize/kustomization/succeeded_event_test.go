package kustomization

import (
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// The success event reads as kustomize-controller's, so that example 09's
// case-sensitive inclusionList `.*reconciliation.*` matches it, and marks
// itself for commit-status providers.
func TestSucceededEventMessage(t *testing.T) {
	obj := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}},
		Status: kustomizev1.KustomizationStatus{LastAppliedRevision: "main@sha1:0123abcd"}}
	message, metadata := succeededEvent(obj, 1234567*time.Microsecond)
	want := "Applied revision: main@sha1:0123abcd, reconciliation finished in 1.235s, next run in 10m0s"
	if message != want {
		t.Errorf("message %q, want %q", message, want)
	}
	if !regexp.MustCompile(".*reconciliation.*").MatchString(message) {
		t.Errorf("example 09's inclusionList does not match %q", message)
	}
	if metadata["kustomize.toolkit.fluxcd.io/commit_status"] != "update" || len(metadata) != 1 {
		t.Errorf("metadata %v", metadata)
	}
}
