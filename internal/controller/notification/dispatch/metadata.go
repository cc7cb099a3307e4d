package dispatch

import (
	"fmt"
	"sort"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// MetadataAppendFailedReason is the reason of the Warning event on an
// Alert whose metadata conflicts with an event's.
const MetadataAppendFailedReason = "MetadataAppendFailed"

// cleanMetadata keeps only the keys an event may carry to a provider: the
// object's event.toolkit.fluxcd.io/* annotations and its controller's
// "<group>/..." keys, less the internal ones (checksum, digest, token).
func cleanMetadata(e *eventv1.Event) map[string]string {
	group, _ := e.GroupVersion()
	drop := map[string]bool{}
	for _, k := range []string{eventv1.MetaChecksumKey, eventv1.MetaDigestKey, eventv1.MetaTokenKey} {
		drop[group+"/"+k] = true
	}
	out := map[string]string{}
	for k, v := range e.Metadata {
		if drop[k] {
			continue
		}
		if strings.HasPrefix(k, eventv1.Group+"/") || (group != "" && strings.HasPrefix(k, group+"/")) {
			out[k] = v
		}
	}
	return out
}

// metadataSource names where a key came from, lowest precedence first.
type metadataSource string

const (
	fromAnnotations   metadataSource = "the object's event.toolkit.fluxcd.io annotations"
	fromEventMetadata metadataSource = "the Alert's spec.eventMetadata"
	fromSummary       metadataSource = "the Alert's spec.summary"
	fromController    metadataSource = "the controller's metadata"
)

// mergeMetadata combines a cleaned event's metadata with the Alert's, each
// source overriding the ones before it (RFC-0008): the object's
// event.toolkit.fluxcd.io/* annotations, the Alert's eventMetadata, its
// summary (key "summary"), and the controller's "<group>/..." keys. Keys
// keep their names. It returns the merged metadata and, when a key came
// with different values, a message naming the keys and their sources.
func mergeMetadata(e *eventv1.Event, cleaned map[string]string, alert *v1beta3.Alert) (map[string]string, string) {
	type entry struct {
		value  string
		source metadataSource
	}
	merged := map[string]entry{}
	conflicts := map[string][]metadataSource{}
	put := func(k, v string, src metadataSource) {
		if old, ok := merged[k]; ok && old.value != v {
			if len(conflicts[k]) == 0 {
				conflicts[k] = append(conflicts[k], old.source)
			}
			conflicts[k] = append(conflicts[k], src)
		}
		merged[k] = entry{value: v, source: src}
	}
	for _, k := range sortedKeys(cleaned) {
		if strings.HasPrefix(k, eventv1.Group+"/") {
			put(k, cleaned[k], fromAnnotations)
		}
	}
	for _, k := range sortedKeys(alert.Spec.EventMetadata) {
		put(k, alert.Spec.EventMetadata[k], fromEventMetadata)
	}
	if alert.Spec.Summary != "" {
		put(eventv1.MetaSummaryKey, alert.Spec.Summary, fromSummary)
	}
	for _, k := range sortedKeys(cleaned) {
		if !strings.HasPrefix(k, eventv1.Group+"/") {
			put(k, cleaned[k], fromController)
		}
	}
	out := make(map[string]string, len(merged))
	for k, v := range merged {
		out[k] = v.value
	}
	if len(conflicts) == 0 {
		return out, ""
	}
	var parts []string
	for _, k := range sortedKeys(conflicts) {
		srcs := make([]string, len(conflicts[k]))
		for i, s := range conflicts[k] {
			srcs[i] = string(s)
		}
		parts = append(parts, fmt.Sprintf("%q (set by %s; the last wins)", k, strings.Join(srcs, ", ")))
	}
	return out, fmt.Sprintf("metadata of the %s event of %s/%s/%s conflicts with the Alert's: %s; remove the duplicate keys from the Alert's spec.eventMetadata or spec.summary, or from the object's annotations",
		e.Severity, e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, strings.Join(parts, "; "))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
