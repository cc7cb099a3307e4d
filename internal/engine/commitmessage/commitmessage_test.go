package commitmessage

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/engine/imageupdate"
)

var sampleChanges = []imageupdate.Change{
	{File: "b/deploy.yaml", Line: 10, Object: imageupdate.ObjectID{APIVersion: "apps/v1", Kind: "Deployment", Name: "api", Namespace: "pay"},
		OldValue: "reg/api:1.0.0", NewValue: "reg/api:1.1.0", Setter: "flux-system:api"},
	{File: "a/values.yaml", Line: 3, Object: imageupdate.ObjectID{APIVersion: "v1", Kind: "ConfigMap", Name: "vals"},
		OldValue: "v1", NewValue: "v2", Setter: "flux-system:worker:tag"},
}

var samplePolicies = map[string]imageupdate.Image{
	"flux-system:api":    {Name: "reg/api", Tag: "1.1.0"},
	"flux-system:worker": {Name: "reg/worker", Tag: "v2"},
}

// renderText parses and renders a messageTemplate as the controller does.
func renderText(t testing.TB, text string) (string, error) {
	m, err := Parse(text, map[string]string{"env": "prod"})
	if err != nil {
		return "", err
	}
	return m.Render(types.NamespacedName{Namespace: "flux-system", Name: "auto"}, sampleChanges, samplePolicies)
}

func TestMessageTemplate(t *testing.T) {
	for _, c := range []struct{ name, text, want, err string }{
		{name: "default", text: "", want: DefaultMessage},
		{name: "object", text: "{{ .AutomationObject }} {{ .Values.env }}", want: "flux-system/auto prod"},
		{name: "changes in file order", text: "{{ range .Changed.Changes }}{{ .Setter }} {{ .OldValue }}->{{ .NewValue }};{{ end }}",
			want: "flux-system:worker:tag v1->v2;flux-system:api reg/api:1.0.0->reg/api:1.1.0;"},
		{name: "file changes", text: "{{ range $f, $o := .Changed.FileChanges }}{{ $f }}:{{ range $id, $c := $o }}{{ $id.Kind }}/{{ $id.Name }}{{ end }} {{ end }}",
			want: "a/values.yaml:ConfigMap/vals b/deploy.yaml:Deployment/api "},
		{name: "objects", text: "{{ range $id, $c := .Changed.Objects }}{{ $id.Name }}={{ len $c }} {{ end }}", want: "api=1 vals=1 "},
		{name: "updated images", text: "{{ range .Updated.Images }}{{ . }} {{ .Name }} {{ .NewTag }} {{ .OldTag }} {{ .Policy.Name }};{{ end }}",
			want: "reg/api:1.1.0 reg/api 1.1.0 1.0.0 api;reg/worker:v2 reg/worker v2 v1 worker;"},
		{name: "sprig", text: `{{ "x" | upper }} {{ list 1 2 | join "," }} {{ indent 2 "a\nb" }} {{ range until 3 }}{{ . }}{{ end }}`,
			want: "X 1,2   a\n  b 012"},
		{name: "repeat bomb", text: `{{ repeat 1000000000 "x" }}`, err: "more than"},
		{name: "until bomb", text: `{{ range until 1000000000 }}{{ end }}`, err: "more than"},
		{name: "indent bomb", text: `{{ indent 1000000000 "x" }}`, err: "more than"},
		{name: "output bound", text: `{{ range until 10000 }}{{ repeat 1000 "x" }}{{ end }}`, err: "longer than"},
		// A tenant's template must not stall a worker or crash the process.
		{name: "nested loops", text: `{{ range until 10000 }}{{ range until 10000 }}{{ end }}{{ end }}`, err: "steps"},
		{name: "doubling", text: `{{ $s := "x" }}{{ range until 64 }}{{ $s = printf "%s%s" $s $s }}{{ end }}`, err: "bytes is more than"},
		{name: "dictionary holding itself", text: `{{ $d := dict }}{{ $_ := set $d "a" $d }}{{ $d }}`, err: "contain itself"},
		{name: "key generation", text: `{{ genPrivateKey "rsa" }}`, err: "not defined"},
		{name: "nonhermetic", text: `{{ now }}`, err: "not defined"},
		{name: "missing value", text: `{{ .Values.nope }}`, err: "nope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := renderText(t, c.text)
			switch {
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("got %q, %v; want an error containing %q", got, err, c.err)
			case c.err == "" && err != nil:
				t.Errorf("error %v", err)
			case c.err == "" && got != c.want:
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestRemovedField: a template reading a field Flux removed, anywhere in
// it, is a *RemovedFieldError naming the field and what to use instead.
func TestRemovedField(t *testing.T) {
	for _, text := range []string{
		"{{ .Changed.ImageResult }}",
		"{{ range .Changed.Changes }}{{ $.Changed.ImageResult }}{{ end }}",
		"{{ if .Changed.ImageResult }}x{{ end }}",
		"{{ with $x := 1 }}{{ else }}{{ .Changed.ImageResult.Foo }}{{ end }}",
		`{{ define "x" }}{{ .Changed.ImageResult }}{{ end }}{{ template "x" . }}`,
	} {
		_, err := Parse(text, nil)
		var removed *RemovedFieldError
		if !errors.As(err, &removed) || removed.Field != ".Changed.ImageResult" {
			t.Errorf("%q: %v, want a RemovedFieldError", text, err)
			continue
		}
		if want := "template uses removed field '.Changed.ImageResult'; use '.Changed' (FileChanges, Changes, Objects)"; err.Error() != want {
			t.Errorf("%q: %q, want %q", text, err, want)
		}
	}
}

// TestParseError: a template that does not parse is a *ParseError, not
// a removed field.
func TestParseError(t *testing.T) {
	for _, text := range []string{"{{ .Changed", "{{ genPrivateKey \"rsa\" }}", "{{ end }}"} {
		_, err := Parse(text, nil)
		var perr *ParseError
		if !errors.As(err, &perr) {
			t.Errorf("%q: %v, want a ParseError", text, err)
		}
	}
}

// TestDeprecated: .Updated is rendered but named by Deprecated.
func TestDeprecated(t *testing.T) {
	for text, want := range map[string]string{
		"":                       "",
		"{{ .Changed.Changes }}": "",
		"{{ range .Updated.Images }}{{ . }}{{ end }}":          ".Updated",
		"{{ range .Changed.Changes }}{{ $.Updated }}{{ end }}": ".Updated",
	} {
		m, err := Parse(text, nil)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if got := m.Deprecated(); got != want {
			t.Errorf("%q: Deprecated() = %q, want %q", text, got, want)
		}
	}
}

// FuzzMessageTemplate renders any template over fixed changes: an error
// or a bounded message, never a panic.
func FuzzMessageTemplate(f *testing.F) {
	for _, seed := range []string{"", "{{ .AutomationObject }}", "{{ range .Changed.Changes }}{{ .NewValue }}{{ end }}",
		"{{ range .Updated.Images }}{{ .Name }}:{{ .NewTag }}{{ end }}", `{{ repeat 70000 "x" }}`, "{{ template \"x\" }}",
		`{{ define "x" }}{{ .Changed.ImageResult }}{{ end }}{{ template "x" . }}`, "{{ range until 5 }}{{ indent . \"a\" }}{{ end }}",
		`{{ $d := dict }}{{ $_ := set $d "a" (list $d) }}{{ $d }}`, `{{ range until 9999 }}{{ range $.Changed.Changes }}{{ end }}{{ end }}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := renderText(t, text)
		if err == nil && len(got) > maxMessage {
			t.Errorf("a message of %d bytes", len(got))
		}
	})
}
