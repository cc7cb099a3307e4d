package imageupdateautomation

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/engine/imageupdate"
	"github.com/driftless/driftless/internal/reconcile"
)

// DefaultMessage is the commit message without a messageTemplate.
const DefaultMessage = "Update from image update automation"

// maxMessage bounds a rendered commit message, in bytes.
const maxMessage = 64 << 10

// TemplateData is what a messageTemplate sees, in Flux's shape.
type TemplateData struct {
	// AutomationObject is the automation's namespace and name.
	AutomationObject types.NamespacedName
	// Changed is what the setters changed.
	Changed Changed
	// Values are spec.git.commit.messageTemplateValues.
	Values map[string]string
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

// messageTemplate is a parsed spec.git.commit.messageTemplate.
type messageTemplate struct {
	tmpl   *template.Template
	values map[string]string
}

// removedFields are template fields Flux removed; a template using one stalls.
var removedFields = []struct{ path []string }{
	{path: []string{"Changed", "ImageResult"}},
	{path: []string{"Updated"}},
}

// reconcileTemplate parses the message template and refuses removed fields.
func (r *Reconciler) reconcileTemplate(_ context.Context, obj *imagev1.ImageUpdateAutomation, _ *reconcile.Pass, s *Run) error {
	commit := obj.Spec.GitSpec.Commit
	text := commit.MessageTemplate
	if text == "" {
		text = DefaultMessage
	}
	t, err := template.New("commit message").Funcs(sprig.HermeticTxtFuncMap()).Option("missingkey=error").Parse(text)
	if err != nil {
		return reconcile.Stalling(imagev1.UpdateFailedReason, "failed to parse commit message template: %s", err)
	}
	for _, tr := range t.Templates() {
		if tr.Tree == nil {
			continue
		}
		if field := usesRemoved(tr.Root); field != "" {
			if field == ".Updated" {
				return reconcile.Stalling(imagev1.RemovedTemplateFieldReason,
					"template field '.Updated' is not supported yet; use '.Changed' (FileChanges, Changes, Objects)")
			}
			return reconcile.Stalling(imagev1.RemovedTemplateFieldReason,
				"template uses removed field '%s'; use '.Changed' (FileChanges, Changes, Objects)", field)
		}
	}
	s.message = &messageTemplate{tmpl: t, values: commit.MessageTemplateValues}
	return nil
}

// render executes the template over the changes, bounded in size.
func (m *messageTemplate) render(obj *imagev1.ImageUpdateAutomation, changes []imageupdate.Change) (string, error) {
	data := TemplateData{
		AutomationObject: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name},
		Changed:          newChanged(changes),
		Values:           m.values,
	}
	var out limitedBuffer
	if err := m.tmpl.Execute(&out, data); err != nil {
		return "", fmt.Errorf("failed to render commit message template: %w", err)
	}
	return out.String(), nil
}

type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxMessage {
		return 0, fmt.Errorf("the commit message is longer than %d bytes", maxMessage)
	}
	return b.Buffer.Write(p)
}

// usesRemoved returns the removed field a template tree reads, "" for none.
func usesRemoved(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if f := usesRemoved(c); f != "" {
				return f
			}
		}
	case *parse.ActionNode:
		return usesRemoved(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if f := usesRemoved(c); f != "" {
				return f
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if f := usesRemoved(a); f != "" {
				return f
			}
		}
	case *parse.FieldNode:
		return removedPath(n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return removedPath(n.Ident[1:])
		}
	case *parse.ChainNode:
		return usesRemoved(n.Node)
	case *parse.IfNode:
		return branch(&n.BranchNode)
	case *parse.RangeNode:
		return branch(&n.BranchNode)
	case *parse.WithNode:
		return branch(&n.BranchNode)
	case *parse.TemplateNode:
		return usesRemoved(n.Pipe)
	}
	return ""
}

func branch(b *parse.BranchNode) string {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if f := usesRemoved(n); f != "" {
			return f
		}
	}
	return ""
}

// removedPath tells whether a field path from the top of the data starts
// with a removed field.
func removedPath(ident []string) string {
	for _, r := range removedFields {
		if len(ident) >= len(r.path) && equal(ident[:len(r.path)], r.path) {
			return "." + joinDots(r.path)
		}
	}
	return ""
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func joinDots(p []string) string {
	s := p[0]
	for _, x := range p[1:] {
		s += "." + x
	}
	return s
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
