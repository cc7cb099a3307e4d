package helmvalues

import (
	"context"
	"encoding/json"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
)

// The kinds a valuesFrom entry may name.
const (
	KindConfigMap = "ConfigMap"
	KindSecret    = "Secret"
)

// Reader reads the ConfigMaps and Secrets of one namespace, the release's.
// The controller implements it over the API server as the release's
// identity; values are read through nothing else.
type Reader interface {
	// Get returns the data of the object of kind (KindConfigMap or
	// KindSecret) called name: for a ConfigMap its data and binaryData
	// together, for a Secret its data. found is false, and err nil, when the
	// object does not exist; err is any other failure to read it.
	Get(ctx context.Context, kind, name string) (data map[string][]byte, found bool, err error)
}

// ComposeRelease composes the values of hr: its valuesFrom, read through r
// from hr's namespace, and its spec.values, in the order of the package
// comment.
func ComposeRelease(ctx context.Context, r Reader, hr *helmv2.HelmRelease) (map[string]any, error) {
	inline, err := InlineValues(hr.Spec.Values)
	if err != nil {
		return nil, err
	}
	return Compose(ctx, r, hr.Namespace, hr.Spec.ValuesFrom, inline)
}

// InlineValues decodes spec.values: nil when absent or null, an error when
// it is not a JSON object.
func InlineValues(j *apiextensionsv1.JSON) (map[string]any, error) {
	if j == nil || len(j.Raw) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(j.Raw, &v); err != nil {
		return nil, fmt.Errorf("spec.values: %w", err)
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("spec.values must be an object, not %s", jsonType(v))
	}
}

// Compose returns the values of a release of namespace: refs read through r
// and merged in order, values (the inline values) over them, then every
// ref with a targetPath set over everything, in order. The result is a new
// map that shares nothing with values; it is empty, never nil, when there
// is nothing. Each object is read once, so that every entry naming it sees
// the same version. A failing entry yields a *ReferenceError.
func Compose(ctx context.Context, r Reader, namespace string, refs []meta.ValuesReference, values map[string]any) (map[string]any, error) {
	type object struct {
		data  map[string][]byte
		found bool
	}
	type pathValue struct {
		ref meta.ValuesReference
		err ReferenceError
		raw string
	}
	read := map[string]object{}
	var paths []pathValue
	result := map[string]any{}
	for i, ref := range refs {
		key := ref.GetValuesKey()
		e := ReferenceError{Index: i, Kind: ref.Kind, Namespace: namespace, Name: ref.Name, Key: key, TargetPath: ref.TargetPath}
		if ref.Kind != KindConfigMap && ref.Kind != KindSecret {
			e.Reason = ErrUnsupportedKind
			return nil, &e
		}
		if ref.TargetPath != "" {
			if err := checkTargetPath(ref.TargetPath); err != nil {
				e.Reason, e.Detail = ErrTargetPath, err.Error()
				return nil, &e
			}
		}
		id := ref.Kind + "/" + ref.Name
		obj, ok := read[id]
		if !ok {
			data, found, err := r.Get(ctx, ref.Kind, ref.Name)
			if err != nil {
				e.Reason, e.Detail, e.Err = ErrRead, err.Error(), err
				return nil, &e
			}
			obj = object{data: data, found: found}
			read[id] = obj
		}
		if !obj.found {
			if ref.Optional {
				continue
			}
			e.Reason = ErrObjectNotFound
			return nil, &e
		}
		raw, ok := obj.data[key]
		if !ok {
			if ref.Optional {
				continue
			}
			e.Reason = ErrKeyNotFound
			return nil, &e
		}
		if ref.TargetPath != "" {
			paths = append(paths, pathValue{ref: ref, err: e, raw: string(raw)})
			continue
		}
		v, yerr := readValues(raw)
		if yerr != nil {
			e.Reason, e.Line, e.Detail = ErrInvalidYAML, yerr.line, yerr.detail
			return nil, &e
		}
		mergeInto(result, v)
	}
	mergeInto(result, values)
	for _, p := range paths {
		if err := setPath(result, p.ref.TargetPath, p.raw, p.ref.Literal); err != nil {
			e := p.err
			e.Reason, e.Detail = ErrTargetPath, setProblem(err)
			return nil, &e
		}
	}
	return result, nil
}

// mergeInto deep-merges src into dst as Helm merges values files: a map
// over a map merges key by key, anything else (a list too) replaces. What
// dst takes from src is copied, so dst never shares a map or list with src.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = make(map[string]any, len(sm))
				dst[k] = dm
			}
			mergeInto(dm, sm)
			continue
		}
		dst[k] = copyValue(v)
	}
}

// copyValue copies the maps and lists of a values tree; scalars are shared.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		mergeInto(m, v)
		return m
	case []any:
		l := make([]any, len(v))
		for i := range v {
			l[i] = copyValue(v[i])
		}
		return l
	default:
		return v
	}
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return fmt.Sprintf("%T", v)
	}
}
