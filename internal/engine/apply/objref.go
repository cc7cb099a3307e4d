package apply

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectRef identifies an object in the cluster.
type ObjectRef struct {
	Group     string
	Version   string
	Kind      string
	Namespace string // empty for cluster-scoped objects
	Name      string
}

// RefOf returns the reference of obj.
func RefOf(obj *unstructured.Unstructured) ObjectRef {
	gvk := obj.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// String returns Kind/namespace/name, or Kind/name for a cluster-scoped
// object, as in Flux's events.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// GroupKind returns the group and kind of the object.
func (r ObjectRef) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: r.Group, Kind: r.Kind}
}

// GroupVersionKind returns the group, version and kind of the object.
func (r ObjectRef) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// idSeparator separates the fields of an inventory ID; a colon in a name
// (as in system:aggregate-to-edit) is written as two of them, as Flux does.
const idSeparator = "_"

// ID returns the inventory ID <namespace>_<name>_<group>_<kind>.
func (r ObjectRef) ID() string {
	name := strings.ReplaceAll(r.Name, ":", idSeparator+idSeparator)
	return strings.Join([]string{r.Namespace, name, r.Group, r.Kind}, idSeparator)
}

// ParseID parses an inventory ID and gives the reference the version.
func ParseID(id, version string) (ObjectRef, error) {
	first := strings.Index(id, idSeparator)
	last := strings.LastIndex(id, idSeparator)
	if first < 0 || last == first {
		return ObjectRef{}, fmt.Errorf("inventory entry %q: want <namespace>_<name>_<group>_<kind>", id)
	}
	kind := id[last+1:]
	rest := id[first+1 : last]
	groupAt := strings.LastIndex(rest, idSeparator)
	if groupAt < 0 {
		return ObjectRef{}, fmt.Errorf("inventory entry %q: want <namespace>_<name>_<group>_<kind>", id)
	}
	name := strings.ReplaceAll(rest[:groupAt], idSeparator+idSeparator, ":")
	ref := ObjectRef{Namespace: id[:first], Name: name, Group: rest[groupAt+1:], Kind: kind, Version: version}
	if ref.Name == "" || ref.Kind == "" {
		return ObjectRef{}, fmt.Errorf("inventory entry %q: empty name or kind", id)
	}
	return ref, nil
}
