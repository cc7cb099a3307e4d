// Package commitmessage is the commit message template of an
// ImageUpdateAutomation (spec.git.commit.messageTemplate): its parsing,
// the fields Flux removed or deprecated, and a render bounded in size,
// steps and the values it makes. The controller renders it for each
// commit; the command line parses it before it writes anything, so both
// refuse the same templates with the same words.
package commitmessage

import (
	"bytes"
	"fmt"
	"text/template"

	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/engine/imageupdate"
	"github.com/driftless/driftless/internal/engine/tenanttemplate"
)

// DefaultMessage is the commit message without a messageTemplate.
const DefaultMessage = "Update from image update automation"

// maxMessage bounds a rendered commit message, in bytes.
const maxMessage = 64 << 10

// Instead is what to use in place of a removed or deprecated field.
const Instead = "'.Changed' (FileChanges, Changes, Objects)"

// ParseError is a template that does not parse (a syntax error, or a
// function that is not defined).
type ParseError struct{ Err error }

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// RemovedFieldError is a template that reads a field Flux removed.
type RemovedFieldError struct {
	// Field is the field as a template names it, ".Changed.ImageResult".
	Field string
}

func (e *RemovedFieldError) Error() string {
	return fmt.Sprintf("template uses removed field '%s'; use %s", e.Field, Instead)
}

// removedFields are template fields Flux removed; a template using one
// does not parse. `.Updated`, which Flux 2.9 refuses too, is rendered (see
// Updated) with a warning.
var removedFields = [][]string{{"Changed", "ImageResult"}}

// deprecatedFields are rendered; Deprecated names the one a template uses.
var deprecatedFields = [][]string{{"Updated"}}

// Template is a parsed messageTemplate with its values. One Template
// renders one message at a time (its budget is reset per render).
type Template struct {
	tmpl       *template.Template
	budget     *tenanttemplate.Budget
	values     map[string]string
	deprecated string
}

// Parse parses a messageTemplate ("" is DefaultMessage) with its
// messageTemplateValues. A template that does not parse is a
// *ParseError, one that reads a removed field a *RemovedFieldError.
func Parse(text string, values map[string]string) (*Template, error) {
	if text == "" {
		text = DefaultMessage
	}
	budget := newBudget()
	t, err := template.New("commit message").Funcs(templateFuncs(budget)).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, &ParseError{Err: err}
	}
	m := &Template{tmpl: t, budget: budget, values: values}
	for _, tr := range t.Templates() {
		if tr.Tree == nil {
			continue
		}
		if field := uses(tr.Root, removedFields); field != "" {
			return nil, &RemovedFieldError{Field: field}
		}
		if field := uses(tr.Root, deprecatedFields); field != "" && m.deprecated == "" {
			m.deprecated = field
		}
	}
	if err := budget.Instrument(t); err != nil {
		return nil, fmt.Errorf("bound the commit message template: %w", err)
	}
	return m, nil
}

// Deprecated is the deprecated field the template reads (".Updated"), ""
// for none: it is rendered, but the template should use Instead.
func (m *Template) Deprecated() string { return m.deprecated }

// Render executes the template over the setters' changes and the
// policies' images they wrote, bounded in size, steps and the values it
// makes.
func (m *Template) Render(automation types.NamespacedName, changes []imageupdate.Change, policies map[string]imageupdate.Image) (string, error) {
	data := TemplateData{
		AutomationObject: automation,
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
