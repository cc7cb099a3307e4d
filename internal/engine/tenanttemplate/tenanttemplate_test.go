package tenanttemplate

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

var limits = Limits{MaxString: 64 << 10, MaxList: 10000}

// sprigWith is Sprig's map with Funcs over it, as a caller builds it.
func sprigWith() template.FuncMap {
	m := sprig.TxtFuncMap()
	maps.Copy(m, Funcs(m, limits))
	return m
}

// render parses text with funcs and, when b is not nil, the budget.
func render(t *testing.T, text string, b *Budget) (string, error) {
	t.Helper()
	funcs := sprigWith()
	if b != nil {
		funcs = b.Wrap(funcs)
	}
	tm, err := template.New("t").Funcs(funcs).Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	if b != nil {
		if err := b.Instrument(tm); err != nil {
			t.Fatal(err)
		}
		b.Reset()
	}
	var out bytes.Buffer
	err = tm.Execute(&out, map[string]any{"Items": []string{"a", "b"}})
	return out.String(), err
}

func newBudget() *Budget { return &Budget{Steps: 100_000, Bytes: 8 << 20, MaxString: 64 << 10} }

// A dictionary made to contain itself would crash the process when
// printed (fmt recurses until the stack overflows, which no recover
// catches); each way of making one is refused instead.
func TestDictionaryThatWouldContainItself(t *testing.T) {
	for _, text := range []string{
		`{{ $d := dict }}{{ $_ := set $d "a" $d }}{{ $d }}`,
		`{{ $d := dict }}{{ $_ := set $d "a" (list 1 (dict "b" $d)) }}{{ $d }}`,
		`{{ $d := dict }}{{ $_ := merge $d (dict "a" $d) }}{{ $d }}`,
		`{{ $d := dict }}{{ $_ := mergeOverwrite $d (dict "a" (list $d)) }}{{ $d }}`,
		`{{ $d := dict }}{{ $_ := mustMerge $d (dict "a" $d) }}{{ $d }}`,
		`{{ $d := dict }}{{ $_ := mustMergeOverwrite $d (dict "a" $d) }}{{ $d }}`,
		// Deep merge writes into the destination's inner dictionary: a
		// source holding that one is a cycle too.
		`{{ $in := dict }}{{ $d := dict "k" $in }}{{ $_ := merge $d (dict "k" (dict "x" $in)) }}{{ $d }}`,
	} {
		_, err := render(t, text, nil)
		if err == nil || !strings.Contains(err.Error(), "contain itself") {
			t.Errorf("%s: %v, want a refusal", text, err)
		}
	}
}

func TestFuncsKeepSprigsResults(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d | toJson }}`, `{"a":1,"b":2}`},
		// A value shared by two keys is not a cycle.
		{`{{ $s := dict "x" 1 }}{{ $d := dict "a" $s }}{{ $_ := set $d "b" $s }}{{ $d | toJson }}`, `{"a":{"x":1},"b":{"x":1}}`},
		{`{{ $d := dict "a" 1 "n" (dict "x" 1) }}{{ merge $d (dict "a" 2 "b" 3 "n" (dict "y" 2)) | toJson }}`, `{"a":1,"b":3,"n":{"x":1,"y":2}}`},
		{`{{ $d := dict "a" 1 }}{{ mergeOverwrite $d (dict "a" 2) | toJson }}`, `{"a":2}`},
		{`{{ repeat 3 "ab" }}|{{ indent 2 "a\nb" }}|{{ nindent 1 "c" }}`, "ababab|  a\n  b|\n c"},
		{`{{ until 3 }}{{ until -2 }}{{ untilStep 1 8 3 }}{{ untilStep 5 0 -2 }}{{ untilStep 0 3 -1 }}`, "[0 1 2][0 -1][1 4 7][5 3 1][]"},
	} {
		got, err := render(t, c.text, nil)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.text, got, err, c.want)
		}
	}
}

func TestFuncsRefuseLargeResults(t *testing.T) {
	for _, text := range []string{
		`{{ repeat 1000000000 "x" }}`,
		`{{ repeat -1 "x" }}`,
		`{{ indent 1000000000 "x" }}`,
		`{{ nindent 40000 "a\nb" }}`,
		`{{ until 1000000000 }}`,
		`{{ untilStep -9223372036854775807 9223372036854775807 1 }}`,
	} {
		if _, err := render(t, text, nil); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("%s: %v, want a refusal", text, err)
		}
	}
}

// Each of these runs for ever, or allocates without bound, without a
// budget; with one it ends with an error naming what ran out.
func TestBudgetEndsRunawayTemplates(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"nested empty ranges", `{{ range until 10000 }}{{ range until 10000 }}{{ end }}{{ end }}`, "steps"},
		{"range over a list kept in a variable", `{{ $l := until 10000 }}{{ range $l }}{{ range $l }}{{ range $l }}{{ end }}{{ end }}{{ end }}`, "steps"},
		{"range over an integer", `{{ range 1000000000 }}{{ end }}`, "steps"},
		{"recursion", `{{ define "r" }}{{ template "r" . }}{{ template "r" . }}{{ end }}{{ template "r" . }}`, "steps"},
		{"doubling with printf", `{{ $s := "x" }}{{ range until 100 }}{{ $s = printf "%s%s" $s $s }}{{ end }}`, "bytes is more than"},
		{"doubling with cat", `{{ $s := "x" }}{{ range until 100 }}{{ $s = cat $s $s }}{{ end }}`, "bytes is more than"},
		{"doubling with print", `{{ $s := "x" }}{{ range until 100 }}{{ $s = print $s $s }}{{ end }}`, "bytes is more than"},
		{"many large strings", `{{ $d := dict }}{{ range $i := until 1000 }}{{ $_ := set $d (toString $i) (repeat 60000 "x") }}{{ end }}`, "bytes of values"},
		{"quadratic uniq", `{{ $l := until 5000 }}{{ range until 100 }}{{ $_ := uniq $l }}{{ end }}`, "steps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := render(t, c.text, newBudget())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want an error containing %q", err, c.want)
			}
		})
	}
}

// An instrumented template renders as it did, and its budget is spent by
// one execution at a time: Reset gives the next its whole budget.
func TestBudgetLeavesOrdinaryTemplatesAlone(t *testing.T) {
	text := `{{ define "item" }}<{{ . | upper }}>{{ end }}{{ range .Items }}{{ template "item" . }}{{ else }}none{{ end }}` +
		`{{ range $i, $x := until 3 }}{{ $i }}{{ end }}{{ with .Items }}{{ len . }}{{ end }}{{ printf "%03d" 7 }} {{ html "<" }}`
	plain, err := render(t, text, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &Budget{Steps: 60, Bytes: 1 << 10, MaxString: 1 << 10}
	funcs := b.Wrap(sprigWith())
	tm := template.Must(template.New("t").Funcs(funcs).Parse(text))
	if err := b.Instrument(tm); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b.Reset()
		var out bytes.Buffer
		if err := tm.Execute(&out, map[string]any{"Items": []string{"a", "b"}}); err != nil {
			t.Fatal(err)
		}
		if out.String() != plain || plain != "<A><B>0122007 &lt;" {
			t.Fatalf("instrumented %q, plain %q", out.String(), plain)
		}
	}
	if b.steps < 10 {
		t.Errorf("%d steps counted, want every range iteration, template entry and call", b.steps)
	}
}

func TestFuncsNeedSprigsMutators(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Funcs over a map without set did not panic")
		}
	}()
	Funcs(template.FuncMap{}, limits)
}
