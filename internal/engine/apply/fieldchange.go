package apply

import (
	"reflect"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fieldChanges lists the fields in which the dry-run result differs from
// the live object, leaving out the metadata that changes on every write
// and the ignored paths: additions (in dry only), removals (in live only)
// and replacements. Maps are compared key by key, lists item by item by
// index; a field present on one side only is reported without its
// children. No value is kept.
func fieldChanges(dry, live *unstructured.Unstructured, ignored [][]string) []FieldChange {
	a, b := dry.DeepCopy().Object, live.DeepCopy().Object
	for _, obj := range []map[string]any{a, b} {
		for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
			unstructured.RemoveNestedField(obj, "metadata", f)
		}
		for _, path := range ignored {
			removePath(obj, path)
		}
	}
	var out []FieldChange
	walkChanges("", b, a, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// walkChanges appends the changes from old to new below the pointer at.
func walkChanges(at string, old, new any, out *[]FieldChange) {
	switch o := old.(type) {
	case map[string]any:
		n, ok := new.(map[string]any)
		if !ok {
			break
		}
		for k, ov := range o {
			if nv, has := n[k]; has {
				walkChanges(at+"/"+escapePointer(k), ov, nv, out)
			} else {
				*out = append(*out, FieldChange{Op: "remove", Path: at + "/" + escapePointer(k)})
			}
		}
		for k := range n {
			if _, has := o[k]; !has {
				*out = append(*out, FieldChange{Op: "add", Path: at + "/" + escapePointer(k)})
			}
		}
		return
	case []any:
		n, ok := new.([]any)
		if !ok {
			break
		}
		for i := range max(len(o), len(n)) {
			p := at + "/" + strconv.Itoa(i)
			switch {
			case i >= len(n):
				*out = append(*out, FieldChange{Op: "remove", Path: p})
			case i >= len(o):
				*out = append(*out, FieldChange{Op: "add", Path: p})
			default:
				walkChanges(p, o[i], n[i], out)
			}
		}
		return
	}
	if !reflect.DeepEqual(old, new) {
		*out = append(*out, FieldChange{Op: "replace", Path: at})
	}
}
