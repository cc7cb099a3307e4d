package postrender

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// setMetadata sets labels and annotations on every object's metadata,
// overriding the keys the objects already have. Only metadata is changed:
// selectors and pod templates keep what the chart wrote, as Flux's
// commonMetadata and origin labels do.
func setMetadata(objs []*unstructured.Unstructured, labels, annotations map[string]string) {
	for _, obj := range objs {
		if len(labels) > 0 {
			obj.SetLabels(merged(obj.GetLabels(), labels))
		}
		if len(annotations) > 0 {
			obj.SetAnnotations(merged(obj.GetAnnotations(), annotations))
		}
	}
}

// merged returns base with extra's keys set over it.
func merged(base, extra map[string]string) map[string]string {
	if base == nil {
		base = make(map[string]string, len(extra))
	}
	for k, v := range extra {
		base[k] = v
	}
	return base
}
