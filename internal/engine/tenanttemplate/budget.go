package tenanttemplate

import (
	"fmt"
	"reflect"
	"text/template"
	"text/template/parse"
)

// stepFunc is the function Instrument calls at every range iteration and
// every template entry. A template may name it too; that only spends its
// own budget.
const stepFunc = "tenantTemplateStep"

// Budget bounds one execution of a template: Steps counts range
// iterations, template entries and function calls; Bytes counts the size
// of every value a function returns (a string's bytes, a list's or
// dictionary's entries). text/template has no way to stop an execution
// from outside, so the template stops itself: the first step or result
// past the budget makes a function fail, and the execution ends with that
// error. Reset it before each execution; one Budget serves one execution
// at a time.
type Budget struct {
	Steps, Bytes int
	// MaxString is the longest string one function may return, so a string
	// doubled in a loop stops long before Bytes runs out.
	MaxString int

	steps, bytes int
}

// Reset starts a new execution.
func (b *Budget) Reset() { b.steps, b.bytes = 0, 0 }

func (b *Budget) step() error { return b.spend(1) }

func (b *Budget) spend(steps int) error {
	b.steps += steps
	if b.steps > b.Steps {
		return fmt.Errorf("the template took more than %d steps (loop iterations and function calls)", b.Steps)
	}
	return nil
}

func (b *Budget) charge(v reflect.Value) error {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	n := 1
	switch v.Kind() {
	case reflect.String:
		n = v.Len()
		if n > b.MaxString {
			return fmt.Errorf("a string of %d bytes is more than %d", n, b.MaxString)
		}
	case reflect.Slice, reflect.Map, reflect.Array:
		n = v.Len()
	}
	b.bytes += n
	if b.bytes > b.Bytes {
		return fmt.Errorf("the template made more than %d bytes of values", b.Bytes)
	}
	return nil
}

var errorType = reflect.TypeFor[error]()

// quadratic are Sprig's functions whose time grows with the square of
// their list (each element compared with reflect.DeepEqual to the others).
var quadratic = map[string]bool{"uniq": true, "mustUniq": true, "without": true, "mustWithout": true}

// cost is the steps a call spends: one, plus the size of its arguments (a
// list's or dictionary's entries, a string's kilobytes), as the work of
// most functions grows with what they are given; the square of the
// list's length for the quadratic ones.
func cost(name string, args []reflect.Value) int {
	n := 1
	for _, a := range args {
		if a.Kind() == reflect.Interface && !a.IsNil() {
			a = a.Elem()
		}
		switch a.Kind() {
		case reflect.String:
			n += a.Len() / 1024
		case reflect.Slice, reflect.Map, reflect.Array:
			l := a.Len()
			n += l
			if quadratic[name] {
				n += l * l / 100
			}
		}
	}
	return n
}

// Wrap returns funcs, and text/template's builtins that make strings
// (print, printf, println, html, js, urlquery), with every call charged to
// b, plus the step function Instrument inserts. Parse with the result.
func (b *Budget) Wrap(funcs template.FuncMap) template.FuncMap {
	out := template.FuncMap{stepFunc: func() (string, error) { return "", b.step() }}
	for name, fn := range builtins() {
		out[name] = b.wrap(name, fn)
	}
	for name, fn := range funcs {
		out[name] = b.wrap(name, fn)
	}
	return out
}

// builtins are text/template's builtins that make a string, as functions,
// so Wrap can charge them (a FuncMap entry shadows a builtin).
func builtins() template.FuncMap {
	return template.FuncMap{
		"print":    fmt.Sprint,
		"printf":   fmt.Sprintf,
		"println":  fmt.Sprintln,
		"html":     template.HTMLEscaper,
		"js":       template.JSEscaper,
		"urlquery": template.URLQueryEscaper,
	}
}

// wrap makes fn charge a step per call and the size of its result. The
// wrapper returns an error too, which text/template turns into the
// execution's error.
func (b *Budget) wrap(name string, fn any) any {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumOut() < 1 || t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errorType) {
		panic(fmt.Sprintf("tenanttemplate: %s is not a template function (%s)", name, t))
	}
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	wrapped := reflect.FuncOf(in, []reflect.Type{t.Out(0), errorType}, t.IsVariadic())
	return reflect.MakeFunc(wrapped, func(args []reflect.Value) []reflect.Value {
		fail := func(err error) []reflect.Value {
			return []reflect.Value{reflect.Zero(t.Out(0)), reflect.ValueOf(&err).Elem()}
		}
		if err := b.spend(cost(name, args)); err != nil {
			return fail(fmt.Errorf("%s: %w", name, err))
		}
		var res []reflect.Value
		if t.IsVariadic() {
			res = v.CallSlice(args)
		} else {
			res = v.Call(args)
		}
		if len(res) == 2 && !res[1].IsNil() {
			return fail(res[1].Interface().(error))
		}
		if err := b.charge(res[0]); err != nil {
			return fail(fmt.Errorf("%s: %w", name, err))
		}
		return []reflect.Value{res[0], reflect.Zero(errorType)}
	}).Interface()
}

// Instrument makes every template of t call the step function on entry
// and at every range iteration, so a loop that calls no function still
// spends the budget. t must have been parsed with Wrap's functions.
func (b *Budget) Instrument(t *template.Template) error {
	probe, err := template.New("step").Funcs(template.FuncMap{stepFunc: func() string { return "" }}).Parse("{{" + stepFunc + "}}")
	if err != nil {
		return err
	}
	step := probe.Tree.Root.Nodes[0]
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		instrument(tt.Tree.Root, step)
		tt.Tree.Root.Nodes = append([]parse.Node{step.Copy()}, tt.Tree.Root.Nodes...)
	}
	return nil
}

// instrument puts a step at the start of every range body under n.
func instrument(n parse.Node, step parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			instrument(c, step)
		}
	case *parse.IfNode:
		instrument(n.List, step)
		instrument(n.ElseList, step)
	case *parse.WithNode:
		instrument(n.List, step)
		instrument(n.ElseList, step)
	case *parse.RangeNode:
		instrument(n.List, step)
		instrument(n.ElseList, step)
		if n.List != nil {
			n.List.Nodes = append([]parse.Node{step.Copy()}, n.List.Nodes...)
		}
	}
}
