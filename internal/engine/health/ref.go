package health

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectRef names an object to wait for.
type ObjectRef struct {
	// Group, Version and Kind of the object; an empty Version means the
	// server's preferred version.
	Group, Version, Kind string
	// Namespace is empty for cluster-scoped kinds.
	Namespace, Name string
	// ResourceVersion, when set, is the version the caller last wrote (the
	// one an apply returned). A watch cache that still holds an older
	// version is not trusted: the object stays InProgress until the watch
	// delivers this version or a newer one.
	ResourceVersion string
	// Owned says the object carries the Cache's OwnedSelector labels (the
	// caller applied it with them), so it may be read from the shared
	// cluster-scope informer. Ignored by a Cache without OwnedSelector.
	Owned bool
	// DoneWhenGone says the object is removed once it has finished (a Job
	// with ttlSecondsAfterFinished): when the wait never sees it, it
	// counts as done rather than NotFound. Set it only for an object the
	// caller has just created, so that missing can only mean removed.
	DoneWhenGone bool
}

// RefFromObject names an object, with its resourceVersion.
func RefFromObject(obj *unstructured.Unstructured) ObjectRef {
	gvk := obj.GroupVersionKind()
	return ObjectRef{
		Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: obj.GetNamespace(), Name: obj.GetName(),
		ResourceVersion: obj.GetResourceVersion(),
	}
}

// RefFromAPIVersion names an object by apiVersion, kind, namespace and name
// (as a healthChecks entry does).
func RefFromAPIVersion(apiVersion, kind, namespace, name string) (ObjectRef, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ObjectRef{}, fmt.Errorf("%s/%s: invalid apiVersion %q: %w", kind, name, apiVersion, err)
	}
	return ObjectRef{Group: gv.Group, Version: gv.Version, Kind: kind, Namespace: namespace, Name: name}, nil
}

// GroupKind of the object.
func (r ObjectRef) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: r.Group, Kind: r.Kind}
}

// String is Kind/namespace/name, or Kind/name for a cluster-scoped object, as
// Flux writes objects in health check messages.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// ObjectStatus is the readiness of one object.
type ObjectStatus struct {
	Ref ObjectRef
	Result
	// ResourceVersion of the object version the result was computed from;
	// empty when none was seen.
	ResourceVersion string
}

// String is Flux's form: "Kind/ns/name status: 'InProgress': message".
func (s ObjectStatus) String() string {
	out := fmt.Sprintf("%s status: '%s'", s.Ref, s.Status)
	if s.Message != "" {
		out += ": " + s.Message
	}
	return out
}

func formatList(list []ObjectStatus) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
