package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// managerRule selects managedFields entries by manager name prefix and
// operation ("" for any); kubectl matches kubectl-edit,
// kubectl-client-side-apply, kubectl-patch and so on.
type managerRule struct {
	prefix string
	op     metav1.ManagedFieldsOperationType
}

// cleanupRules lists the managers whose fields the owner takes over: kubectl
// (apply and update), before-first-apply (update), the owner's own update
// entries, and the override managers (apply and update).
func (o Owner) cleanupRules(overrides []string) []managerRule {
	rules := []managerRule{
		{"kubectl", metav1.ManagedFieldsOperationApply},
		{"kubectl", metav1.ManagedFieldsOperationUpdate},
		{"before-first-apply", metav1.ManagedFieldsOperationUpdate},
		{o.Field, metav1.ManagedFieldsOperationUpdate},
	}
	for _, m := range overrides {
		rules = append(rules, managerRule{prefix: m})
	}
	return rules
}

func (o Owner) ownApply(e metav1.ManagedFieldsEntry) bool {
	return e.Manager == o.Field && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == ""
}

func (o Owner) cleaned(e metav1.ManagedFieldsEntry, rules []managerRule) bool {
	if e.Subresource != "" || o.ownApply(e) {
		return false
	}
	for _, r := range rules {
		if r.prefix != "" && strings.HasPrefix(e.Manager, r.prefix) && (r.op == "" || r.op == e.Operation) {
			return true
		}
	}
	return false
}

func parseFields(e metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if e.FieldsV1 == nil || len(e.FieldsV1.Raw) == 0 {
		return s, nil
	}
	if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
		return nil, fmt.Errorf("managedFields of %s (%s): %w", e.Manager, e.Operation, err)
	}
	return s, nil
}

// overrideRules lists only the override managers (apply and update): the
// hand-over of Compare and Reapply, which leave kubectl's fields to it.
func overrideRules(overrides []string) []managerRule {
	var rules []managerRule
	for _, m := range overrides {
		if m != "" {
			rules = append(rules, managerRule{prefix: m})
		}
	}
	return rules
}

// cleanupPatch returns a JSON patch that hands the fields of the entries
// matched by rules over to the owner's apply entry and, with legacy,
// removes the annotations and label of client-side apply and Flux v1; nil
// when live has none of them.
func (o Owner) cleanupPatch(live *unstructured.Unstructured, rules []managerRule, legacy bool) ([]byte, error) {
	var keep []metav1.ManagedFieldsEntry
	taken := &fieldpath.Set{}
	found, own := false, -1
	for _, e := range live.GetManagedFields() {
		if !o.cleaned(e, rules) {
			if o.ownApply(e) {
				own = len(keep)
			}
			keep = append(keep, e)
			continue
		}
		s, err := parseFields(e)
		if err != nil {
			return nil, err
		}
		taken, found = taken.Union(s), true
	}
	ops := []map[string]any{{"op": "test", "path": "/metadata/resourceVersion", "value": live.GetResourceVersion()}}
	if found {
		if own < 0 {
			keep = append(keep, metav1.ManagedFieldsEntry{Manager: o.Field, Operation: metav1.ManagedFieldsOperationApply,
				APIVersion: live.GetAPIVersion(), FieldsType: "FieldsV1"})
			own = len(keep) - 1
		}
		mine, err := parseFields(keep[own])
		if err != nil {
			return nil, err
		}
		raw, err := mine.Union(taken).ToJSON()
		if err != nil {
			return nil, err
		}
		keep[own].FieldsV1 = &metav1.FieldsV1{Raw: raw}
		ops = append(ops, map[string]any{"op": "replace", "path": "/metadata/managedFields", "value": keep})
	}
	if !legacy {
		return cleanupOps(ops)
	}
	annotations := live.GetAnnotations()
	for _, k := range []string{lastAppliedAnnotation, o.key(legacyChecksumSuffix), syncChecksumAnnotation} {
		if _, ok := annotations[k]; ok {
			ops = append(ops, map[string]any{"op": "remove", "path": "/metadata/annotations/" + escapePointer(k)})
		}
	}
	if _, ok := live.GetLabels()[syncGarbageCollectLabel]; ok {
		ops = append(ops, map[string]any{"op": "remove", "path": "/metadata/labels/" + escapePointer(syncGarbageCollectLabel)})
	}
	return cleanupOps(ops)
}

// cleanupOps encodes the operations of a cleanup patch; nil when there is
// nothing but the resourceVersion test.
func cleanupOps(ops []map[string]any) ([]byte, error) {
	if len(ops) == 1 {
		return nil, nil
	}
	return json.Marshal(ops)
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// cleanup applies the cleanup patch to the live object, reading it again
// when it changed in between, and returns the patched object and whether
// it patched it.
func (m *Manager) cleanup(ctx context.Context, o *object, live *unstructured.Unstructured, overrides []string) (*unstructured.Unstructured, bool, error) {
	return m.handOver(ctx, o, live, m.owner.cleanupRules(overrides), true)
}

// handOver is cleanup with the given rules; legacy also removes the
// metadata of client-side apply and Flux v1.
func (m *Manager) handOver(ctx context.Context, o *object, live *unstructured.Unstructured, rules []managerRule, legacy bool) (*unstructured.Unstructured, bool, error) {
	res := m.resource(o)
	for attempt := 0; ; attempt++ {
		patch, err := m.owner.cleanupPatch(live, rules, legacy)
		if err != nil || patch == nil {
			return live, false, err
		}
		patched, err := res.Patch(ctx, o.ref.Name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: m.owner.Field})
		if err == nil {
			return patched, true, nil
		}
		if attempt == 4 || !(apierrors.IsConflict(err) || apierrors.IsInvalid(err)) {
			return nil, false, err
		}
		// The object changed since it was read: read it again.
		if live, err = res.Get(ctx, o.ref.Name, metav1.GetOptions{}); err != nil {
			return nil, false, err
		}
	}
}

// owners tells whether the owner's apply entry owns the field at path of
// live, and whether another apply entry does.
func (o Owner) owners(live *unstructured.Unstructured, path []string) (own, otherApply bool) {
	for _, e := range live.GetManagedFields() {
		if e.Subresource != "" || e.Operation != metav1.ManagedFieldsOperationApply {
			continue
		}
		s, err := parseFields(e)
		if err != nil || !owns(s, live.Object, path) {
			continue
		}
		if o.ownApply(e) {
			own = true
		} else {
			otherApply = true
		}
	}
	return own, otherApply
}

// owns tells whether set holds the field at path of obj, a field below it,
// or a parent owned as a whole (an atomic map or list).
func owns(set *fieldpath.Set, obj any, path []string) bool {
	cur, node := obj, set
	for i, t := range path {
		var pe fieldpath.PathElement
		switch v := cur.(type) {
		case map[string]any:
			pe, cur = fieldpath.PathElement{FieldName: &t}, v[t]
		case []any:
			idx, err := strconv.Atoi(t)
			if err != nil || idx < 0 || idx >= len(v) {
				return false
			}
			var ok bool
			if pe, ok = listElement(node, v[idx], idx); !ok {
				return false
			}
			cur = v[idx]
		default:
			return false
		}
		child, hasChild := node.Children.Get(pe)
		switch {
		case hasChild && i == len(path)-1:
			return true
		case hasChild:
			node = child
		default:
			return node.Members.Has(pe)
		}
	}
	return false
}

// listElement finds how set names the list item at idx: by key fields, by
// value or by index.
func listElement(set *fieldpath.Set, item any, idx int) (fieldpath.PathElement, bool) {
	var found fieldpath.PathElement
	ok := false
	match := func(pe fieldpath.PathElement) {
		if ok {
			return
		}
		switch {
		case pe.Key != nil:
			m, isMap := item.(map[string]any)
			if !isMap {
				return
			}
			for _, f := range *pe.Key {
				v, has := m[f.Name]
				if !has || !value.Equals(f.Value, value.NewValueInterface(v)) {
					return
				}
			}
		case pe.Value != nil:
			if !value.Equals(*pe.Value, value.NewValueInterface(item)) {
				return
			}
		case pe.Index != nil:
			if *pe.Index != idx {
				return
			}
		default:
			return
		}
		found, ok = pe, true
	}
	set.Members.Iterate(match)
	set.Children.Iterate(match)
	return found, ok
}
