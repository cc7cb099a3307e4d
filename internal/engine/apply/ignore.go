package apply

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	apimeta "github.com/driftless/driftless/api/meta"
)

// IgnoreRule leaves fields out of drift detection and apply: the fields at
// Paths (JSON Pointers, RFC 6901) of the objects Target selects, or of
// every object when Target is nil. It is a Kustomization's spec.ignore
// entry, converted by its controller.
type IgnoreRule struct {
	Paths  []string
	Target *apimeta.Selector
}

// ignoreRule is a compiled spec.ignore rule.
type ignoreRule struct {
	paths [][]string // JSON pointers, split into unescaped tokens
	// Regular expressions on the target's fields, matched in full; nil
	// matches anything.
	group, version, kind, name, namespace *regexp.Regexp
	labels, annotations                   labels.Selector
}

// compileIgnore checks and compiles spec.ignore; errors name the rule.
func compileIgnore(rules []IgnoreRule) ([]ignoreRule, error) {
	return compileIgnoreAt(rules, "spec.ignore")
}

// compileIgnoreAt is compileIgnore for rules found at the given field,
// which errors name.
func compileIgnoreAt(rules []IgnoreRule, at string) ([]ignoreRule, error) {
	out := make([]ignoreRule, 0, len(rules))
	var errs []error
	for i, r := range rules {
		field := fmt.Sprintf("%s[%d]", at, i)
		var c ignoreRule
		if len(r.Paths) == 0 {
			errs = append(errs, fmt.Errorf("%s.paths: at least one path is required", field))
		}
		for j, p := range r.Paths {
			tokens, err := parsePointer(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.paths[%d]: %w", field, j, err))
				continue
			}
			c.paths = append(c.paths, tokens)
		}
		if t := r.Target; t != nil {
			for _, re := range []struct {
				name, expr string
				dst        **regexp.Regexp
			}{
				{"group", t.Group, &c.group}, {"version", t.Version, &c.version}, {"kind", t.Kind, &c.kind},
				{"name", t.Name, &c.name}, {"namespace", t.Namespace, &c.namespace},
			} {
				if re.expr == "" {
					continue
				}
				if _, err := regexp.Compile(re.expr); err != nil {
					errs = append(errs, fmt.Errorf("%s.target.%s: invalid regular expression %q: %w", field, re.name, re.expr, err))
					continue
				}
				*re.dst = regexp.MustCompile("^(?:" + re.expr + ")$")
			}
			var err error
			if c.labels, err = parseSelector(t.LabelSelector); err != nil {
				errs = append(errs, fmt.Errorf("%s.target.labelSelector: %w", field, err))
			}
			if c.annotations, err = parseSelector(t.AnnotationSelector); err != nil {
				errs = append(errs, fmt.Errorf("%s.target.annotationSelector: %w", field, err))
			}
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func parseSelector(s string) (labels.Selector, error) {
	if s == "" {
		return nil, nil
	}
	return labels.Parse(s)
}

// matches tells whether the rule targets obj.
func (r ignoreRule) matches(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	for _, m := range []struct {
		re *regexp.Regexp
		v  string
	}{{r.group, gvk.Group}, {r.version, gvk.Version}, {r.kind, gvk.Kind}, {r.name, obj.GetName()}, {r.namespace, obj.GetNamespace()}} {
		if m.re != nil && !m.re.MatchString(m.v) {
			return false
		}
	}
	if r.labels != nil && !r.labels.Matches(labels.Set(obj.GetLabels())) {
		return false
	}
	return r.annotations == nil || r.annotations.Matches(labels.Set(obj.GetAnnotations()))
}

// ignoredPaths returns the paths of the rules that target obj.
func ignoredPaths(rules []ignoreRule, obj *unstructured.Unstructured) [][]string {
	var out [][]string
	for _, r := range rules {
		if r.matches(obj) {
			out = append(out, r.paths...)
		}
	}
	return out
}

// parsePointer splits a JSON pointer (RFC 6901) into unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer: it must start with '/'", p)
	}
	if p == "/" {
		return nil, fmt.Errorf("%q would ignore the whole object", p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, t := range tokens {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("%q: '~' must be followed by 0 or 1", p)
		}
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

// getPath returns the value at path in obj.
func getPath(obj any, path []string) (any, bool) {
	cur := obj
	for _, t := range path {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[t]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// removePath deletes the value at path in obj, when there is one.
func removePath(obj map[string]any, path []string) {
	parent, ok := getPath(obj, path[:len(path)-1])
	if !ok {
		return
	}
	last := path[len(path)-1]
	switch v := parent.(type) {
	case map[string]any:
		delete(v, last)
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(v) {
			return
		}
		// A list is shortened in its parent, which holds the slice.
		grand, _ := getPath(obj, path[:len(path)-2])
		short := append(append([]any{}, v[:i]...), v[i+1:]...)
		setChild(grand, path[len(path)-2], short)
	}
}

// setPath sets the value at path in obj, creating the maps on the way; it
// gives up when a list on the way lacks the item.
func setPath(obj map[string]any, path []string, value any) bool {
	var cur any = obj
	for _, t := range path[:len(path)-1] {
		next, ok := getPath(cur, []string{t})
		if !ok {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return false
			}
			next = map[string]any{}
			m[t] = next
		}
		cur = next
	}
	return setChild(cur, path[len(path)-1], runtime.DeepCopyJSONValue(value))
}

func setChild(parent any, token string, value any) bool {
	switch v := parent.(type) {
	case map[string]any:
		v[token] = value
		return true
	case []any:
		i, err := strconv.Atoi(token)
		if err != nil || i < 0 || i >= len(v) {
			return false
		}
		v[i] = value
		return true
	}
	return false
}
