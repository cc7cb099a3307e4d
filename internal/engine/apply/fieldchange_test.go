package apply

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFieldChanges(t *testing.T) {
	live := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "x", "resourceVersion": "1", "labels": map[string]any{"a/b": "1", "gone": "x"}},
		"data":     map[string]any{"color": "red", "same": "v"},
		"spec":     map[string]any{"list": []any{"a", "b", "c"}, "replicas": int64(5), "short": []any{"x"}},
	}}
	dry := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "x", "resourceVersion": "2", "labels": map[string]any{"a/b": "2"}},
		"data":     map[string]any{"color": "blue", "same": "v", "new": "secret-value"},
		"spec":     map[string]any{"list": []any{"a", "B"}, "replicas": int64(2), "short": []any{"x", "y"}},
	}}
	got := fieldChanges(dry, live, [][]string{{"spec", "replicas"}})
	want := []FieldChange{
		{"add", "/data/new"},
		{"replace", "/data/color"},
		{"replace", "/metadata/labels/a~1b"},
		{"remove", "/metadata/labels/gone"},
		{"remove", "/spec/list/2"},
		{"replace", "/spec/list/1"},
		{"add", "/spec/short/1"},
	}
	sortChanges(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got %v\nwant %v", got, want)
	}
	if got := fieldChanges(live, live, nil); len(got) != 0 {
		t.Errorf("an object against itself: %v", got)
	}
}

func sortChanges(c []FieldChange) {
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j].Path < c[i].Path {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
}
