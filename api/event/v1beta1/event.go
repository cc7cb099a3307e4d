package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group is the API group of the event metadata keys the notification
// controller keeps from an object's annotations.
const Group = "event.toolkit.fluxcd.io"

// Severities of an event. A Warning Kubernetes event is an error, a Normal
// one info; trace events stay Kubernetes events and are never posted.
const (
	EventSeverityTrace = "trace"
	EventSeverityInfo  = "info"
	EventSeverityError = "error"
)

// MaxMessageLength is the longest message an event carries; a longer one
// is cut to it.
const MaxMessageLength = 39000

// Metadata keys a controller sets as "<group>/<key>", the group being its
// own API group (kustomize.toolkit.fluxcd.io/revision).
const (
	MetaRevisionKey       = "revision"
	MetaOriginRevisionKey = "originRevision"
	MetaDigestKey         = "digest"
	// MetaChecksumKey is deprecated in Flux: dropped before dispatch.
	MetaChecksumKey = "checksum"
	// MetaTokenKey only tells events apart for the rate limiter.
	MetaTokenKey = "token"
	// MetaCommitStatusKey with MetaCommitStatusUpdateValue marks the event
	// a commit-status provider acts on.
	MetaCommitStatusKey         = "commit_status"
	MetaCommitStatusUpdateValue = "update"
)

// Keys under Group, set on an object as annotations ("event.toolkit.fluxcd.io/commit")
// and carried into its events' metadata.
const (
	// MetaCommitKey names the commit a commit-status provider reports on
	// when the event's revision is not one.
	MetaCommitKey = "commit"
	// MetaChangeRequestKey names the pull or merge request a
	// change-request comment provider comments on.
	MetaChangeRequestKey = "change_request"
	// MetaSummaryKey is the Alert's summary.
	MetaSummaryKey = "summary"
)

// Event is one event of a Flux object, as posted to the notification
// controller and handed to the providers.
type Event struct {
	// InvolvedObject is the object the event is about.
	InvolvedObject corev1.ObjectReference `json:"involvedObject"`

	// Severity is info or error (trace is never posted).
	Severity string `json:"severity"`

	// Timestamp is when the event was recorded.
	Timestamp metav1.Time `json:"timestamp"`

	// Message is what happened, at most MaxMessageLength characters.
	Message string `json:"message"`

	// Reason is a short machine-readable reason: the Ready condition's
	// reason, or a step's (HelmChartCreated).
	Reason string `json:"reason"`

	// Metadata are the event's keys and values: the controller's own
	// ("<group>/revision") and the object's event.toolkit.fluxcd.io/*
	// annotations.
	Metadata map[string]string `json:"metadata,omitempty"`

	// ReportingController is the Flux controller that recorded the event
	// (kustomize-controller).
	ReportingController string `json:"reportingController"`

	// ReportingInstance is the instance of the controller (its host name).
	ReportingInstance string `json:"reportingInstance,omitempty"`
}

// HasReason tells whether the event has the reason.
func (e *Event) HasReason(reason string) bool { return e.Reason == reason }

// HasMetadata tells whether the event carries the key with the value.
func (e *Event) HasMetadata(key, value string) bool {
	v, ok := e.Metadata[key]
	return ok && v == value
}

// GroupVersion is the group and version of the involved object's kind
// ("kustomize.toolkit.fluxcd.io", "v1"), read from its apiVersion.
func (e *Event) GroupVersion() (group, version string) {
	api := e.InvolvedObject.APIVersion
	for i := len(api) - 1; i >= 0; i-- {
		if api[i] == '/' {
			return api[:i], api[i+1:]
		}
	}
	return "", api
}
