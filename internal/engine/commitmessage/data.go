package commitmessage

import (
	"sort"

	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/engine/imageupdate"
)

// TemplateData is what a messageTemplate sees, in Flux's shape.
type TemplateData struct {
	// AutomationObject is the automation's namespace and name.
	AutomationObject types.NamespacedName
	// Changed is what the setters changed.
	Changed Changed
	// Values are spec.git.commit.messageTemplateValues.
	Values map[string]string
	// Updated is the changes in the shape of Flux's removed v1beta1 field.
	Updated Updated
}

// ObjectIdentifier names an object a change was made in.
type ObjectIdentifier struct {
	Name, Namespace, APIVersion, Kind string
}

// Change is one rewritten value.
type Change struct {
	OldValue, NewValue, Setter string
}

// ObjectChanges are the changes of one file, by object.
type ObjectChanges map[ObjectIdentifier][]Change

// Changed is the changes by file.
type Changed struct {
	FileChanges map[string]ObjectChanges
}

// Changes lists every change, file by file in name order.
func (c Changed) Changes() []Change {
	var all []Change
	for _, file := range sortedKeys(c.FileChanges) {
		for _, obj := range sortedObjects(c.FileChanges[file]) {
			all = append(all, c.FileChanges[file][obj]...)
		}
	}
	return all
}

// Objects merges the changes of every file by object.
func (c Changed) Objects() ObjectChanges {
	out := ObjectChanges{}
	for _, file := range sortedKeys(c.FileChanges) {
		for obj, changes := range c.FileChanges[file] {
			out[obj] = append(out[obj], changes...)
		}
	}
	return out
}

// newChanged groups the setters' changes by file and object.
func newChanged(changes []imageupdate.Change) Changed {
	c := Changed{FileChanges: map[string]ObjectChanges{}}
	for _, ch := range changes {
		byObject := c.FileChanges[ch.File]
		if byObject == nil {
			byObject = ObjectChanges{}
			c.FileChanges[ch.File] = byObject
		}
		id := ObjectIdentifier{Name: ch.Object.Name, Namespace: ch.Object.Namespace, APIVersion: ch.Object.APIVersion, Kind: ch.Object.Kind}
		byObject[id] = append(byObject[id], Change{OldValue: ch.OldValue, NewValue: ch.NewValue, Setter: ch.Setter})
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedObjects(m ObjectChanges) []ObjectIdentifier {
	ids := make([]ObjectIdentifier, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		return a.APIVersion+"\x00"+a.Kind+"\x00"+a.Namespace+"\x00"+a.Name <
			b.APIVersion+"\x00"+b.Kind+"\x00"+b.Namespace+"\x00"+b.Name
	})
	return ids
}
