package graph

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hostile is a graph whose names and reasons try to inject markup.
func hostile(t *testing.T) *Graph {
	t.Helper()
	k := withReady(ks("ns", `x<script>alert(1)</script>`, `"><script>alert(2)</script>`),
		metav1.ConditionFalse, `<img src=x onerror=alert(3)>`)
	g, err := Build(objs(k), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSVGEscapes(t *testing.T) {
	svg := string(hostile(t).SVG())
	for _, bad := range []string{"<script", "<img", `"><script`} {
		if strings.Contains(svg, bad) {
			t.Errorf("the SVG holds %q unescaped:\n%s", bad, svg)
		}
	}
	if !strings.Contains(svg, "x&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the name is not in the SVG, escaped:\n%s", svg)
	}
	wellFormed(t, svg)
}

// TestSVGUnderCSP checks what a strict Content-Security-Policy forbids
// is absent and what the page needs is there.
func TestSVGUnderCSP(t *testing.T) {
	g, err := Build(crossed(), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	svg := string(g.SVG())
	forbidden := map[string]*regexp.Regexp{
		"style attribute": regexp.MustCompile(`\sstyle=`),
		"style element":   regexp.MustCompile(`<style`),
		"script":          regexp.MustCompile(`<script`),
		"event attribute": regexp.MustCompile(`\son[a-z]+=`),
		"foreign origin":  regexp.MustCompile(`href="(https?:)?//`),
	}
	for what, re := range forbidden {
		if re.MatchString(svg) {
			t.Errorf("the SVG has a %s", what)
		}
	}
	for _, want := range []string{`role="img"`, `aria-label="Dependency graph: 8 objects, 7 edges"`, `viewBox="0 0 `,
		`<marker id="graph-arrow-source"`, `marker-end="url(#graph-arrow-source)"`, `class="edge dependsOn"`,
		`<a class="node unknown" href="/o/kustomize.toolkit.fluxcd.io/Kustomization/ns/x">`,
		`<tspan class="icon">?</tspan> Unknown</text>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %s:\n%s", want, svg)
		}
	}
	wellFormed(t, svg)
}

func TestJSONEscapes(t *testing.T) {
	j, err := hostile(t).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), "<script") {
		t.Errorf("the JSON holds <script unescaped:\n%s", j)
	}
	var back jsonGraph
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if back.Nodes[1].Name != `x<script>alert(1)</script>` || back.Nodes[1].Reason != `<img src=x onerror=alert(3)>` {
		t.Errorf("the JSON does not round-trip the name and reason: %+v", back.Nodes[1])
	}
}

// wellFormed fails unless svg parses as XML.
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
}
