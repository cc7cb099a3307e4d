package dispatch

import (
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// FuzzMatch feeds event fields and Alert patterns through matching,
// metadata clean-up and merge, and routing: no panic, and exclusion always
// wins.
func FuzzMatch(f *testing.F) {
	f.Add("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", "flux-system", "error", "path not found: ./staging",
		"kustomize.toolkit.fluxcd.io/revision", "main@sha1:0123", "*", "", ".*", "staging", "summary", "github")
	f.Add("", "", "", "", "trace", "", "", "", "", "", "", "", "", "")
	f.Add("a/b/c", "Kustomization", "x", "y", "info", "\xff\xfe", "event.toolkit.fluxcd.io/commit", "abc", "x", "y", "([a-z", "(?i)X", "event.toolkit.fluxcd.io/commit", "gitlabmergerequestcomment")
	f.Fuzz(func(t *testing.T, apiVersion, kind, name, namespace, severity, message, metaKey, metaValue,
		srcName, srcNamespace, include, exclude, alertKey, providerType string) {
		e := eventv1.Event{
			InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind, Name: name, Namespace: namespace},
			Severity:       severity,
			Message:        message,
			Metadata:       map[string]string{metaKey: metaValue},
		}
		alert := &v1beta3.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "a"},
			Spec: v1beta3.AlertSpec{
				EventSeverity: severity,
				EventSources: []notificationv1.CrossNamespaceObjectReference{{
					Kind: kind, Name: srcName, Namespace: srcNamespace, MatchLabels: map[string]string{metaKey: metaValue},
				}},
				InclusionList: []string{include},
				ExclusionList: []string{exclude},
				EventMetadata: map[string]string{alertKey: metaValue},
				Summary:       message,
			},
		}
		labels := func() (map[string]string, error) { return map[string]string{metaKey: metaValue}, nil }
		for _, lockdown := range []bool{false, true} {
			_, _ = alertSelects(alert, &e, lockdown, labels)
		}
		p := compilePatterns(alert)
		if p.invalid == "" {
			if regexp.MustCompile(exclude).MatchString(message) && p.accepts(message) {
				t.Fatalf("exclusion %q matches %q but the message was accepted", exclude, message)
			}
		}
		cleaned := cleanMetadata(&e)
		merged, _ := mergeMetadata(&e, cleaned, alert)
		out := e
		out.Metadata = merged
		_, _ = route(providerType, &out)
		_ = limitKey(&e)
	})
}
