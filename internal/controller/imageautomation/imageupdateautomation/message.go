package imageupdateautomation

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"text/template"
	"text/template/parse"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/engine/imageupdate"
	"github.com/driftless/driftless/internal/engine/tenanttemplate"
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

// messageTemplate is a parsed spec.git.commit.messageTemplate.
type messageTemplate struct {
	tmpl   *template.Template
	budget *tenanttemplate.Budget
	values map[string]string
}

// removedFields are template fields Flux removed; a template using one
// stalls. `.Updated`, which Flux 2.9 refuses too, is rendered (see Updated)
// with a warning.
var removedFields = [][]string{{"Changed", "ImageResult"}}

// deprecatedFields are rendered, with a Warning event once per generation.
var deprecatedFields = [][]string{{"Updated"}}

// reconcileTemplate parses the message template and refuses removed fields.
func (r *Reconciler) reconcileTemplate(_ context.Context, obj *imagev1.ImageUpdateAutomation, p *reconcile.Pass, s *Run) error {
	commit := obj.Spec.GitSpec.Commit
	text := commit.MessageTemplate
	if text == "" {
		text = DefaultMessage
	}
	budget := newBudget()
	t, err := template.New("commit message").Funcs(templateFuncs(budget)).Option("missingkey=error").Parse(text)
	if err != nil {
		return reconcile.Stalling(imagev1.UpdateFailedReason, "failed to parse commit message template: %s", err)
	}
	for _, tr := range t.Templates() {
		if tr.Tree == nil {
			continue
		}
		if field := uses(tr.Root, removedFields); field != "" {
			return reconcile.Stalling(imagev1.RemovedTemplateFieldReason,
				"template uses removed field '%s'; use '.Changed' (FileChanges, Changes, Objects)", field)
		}
		if field := uses(tr.Root, deprecatedFields); field != "" && obj.Generation != obj.Status.ObservedGeneration {
			p.Event(corev1.EventTypeWarning, imagev1.RemovedTemplateFieldReason, fmt.Sprintf(
				"template uses '%s', which Flux has removed; it is rendered, but use '.Changed' (FileChanges, Changes, Objects)", field))
		}
	}
	if err := budget.Instrument(t); err != nil {
		return fmt.Errorf("bound the commit message template: %w", err)
	}
	s.message = &messageTemplate{tmpl: t, budget: budget, values: commit.MessageTemplateValues}
	return nil
}

// render executes the template over the changes, bounded in size, steps
// and the values it makes.
func (m *messageTemplate) render(obj *imagev1.ImageUpdateAutomation, changes []imageupdate.Change, policies map[string]imageupdate.Image) (string, error) {
	data := TemplateData{
		AutomationObject: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name},
		Changed:          newChanged(changes),
		Values:           m.values,
		Updated:          newUpdated(changes, policies),
	}
	var out limitedBuffer
	m.budget.Reset()
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

// uses returns the first of fields a template tree reads from the top of
// its data, "" for none.
func uses(n parse.Node, fields [][]string) string {
	return walker{fields: fields}.usesIn(n)
}

type walker struct{ fields [][]string }

func (w walker) usesIn(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if f := w.usesIn(c); f != "" {
				return f
			}
		}
	case *parse.ActionNode:
		return w.usesIn(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if f := w.usesIn(c); f != "" {
				return f
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if f := w.usesIn(a); f != "" {
				return f
			}
		}
	case *parse.FieldNode:
		return w.path(n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return w.path(n.Ident[1:])
		}
	case *parse.ChainNode:
		return w.usesIn(n.Node)
	case *parse.IfNode:
		return w.branch(&n.BranchNode)
	case *parse.RangeNode:
		return w.branch(&n.BranchNode)
	case *parse.WithNode:
		return w.branch(&n.BranchNode)
	case *parse.TemplateNode:
		return w.usesIn(n.Pipe)
	}
	return ""
}

func (w walker) branch(b *parse.BranchNode) string {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if f := w.usesIn(n); f != "" {
			return f
		}
	}
	return ""
}

// path tells whether a field path from the top of the data starts with
// one of the fields.
func (w walker) path(ident []string) string {
	for _, f := range w.fields {
		if len(ident) >= len(f) && equal(ident[:len(f)], f) {
			return "." + joinDots(f)
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
