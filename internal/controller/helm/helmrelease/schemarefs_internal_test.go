package helmrelease

import (
	"strings"
	"testing"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
)

func TestCheckSchemaRefs(t *testing.T) {
	chart := func(name, schema string) *chartv2.Chart {
		c := &chartv2.Chart{Metadata: &chartv2.Metadata{Name: name}}
		if schema != "" {
			c.Schema = []byte(schema)
		}
		return c
	}
	for _, schema := range []string{
		"",
		`{"type":"object"}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"x":{"$ref":"urn:example:thing"}}}`,
		`{"properties":{"$ref":{"type":"string"}}}`,
	} {
		if err := checkSchemaRefs(chart("ok", schema)); err != nil {
			t.Errorf("%s refused: %v", schema, err)
		}
	}
	for schema, want := range map[string]string{
		`{"properties":{"x":{"$ref":"file:///etc/passwd"}}}`:                        `"file:///etc/passwd" (at /properties/x/$ref)`,
		`{"properties":{"x":{"$ref":"other.json#/a"}}}`:                             `"other.json#/a"`,
		`{"allOf":[{"$ref":"https://example.com/s.json"}]}`:                         `"https://example.com/s.json" (at /allOf/0/$ref)`,
		`{"$schema":"http://evil.example/meta"}`:                                    `"http://evil.example/meta" (at /$schema)`,
		`{"$defs":{"a/b":{"$dynamicRef":"http://x/y"}}}`:                            `(at /$defs/a~1b/$dynamicRef)`,
		`{"properties":{"x":{"$ref":"http://json-schema.org/draft-07/schema#/x"}}}`: `draft-07/schema#/x`,
	} {
		err := checkSchemaRefs(chart("bad", schema))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "chart bad") {
			t.Errorf("%s: %v, want %s", schema, err, want)
		}
	}
	parent := chart("parent", `{"type":"object"}`)
	parent.SetDependencies(chart("sub", `{"properties":{"x":{"$ref":"file:///x"}}}`))
	if err := checkSchemaRefs(parent); err == nil || !strings.Contains(err.Error(), "chart sub") {
		t.Errorf("a subchart's external reference: %v", err)
	}
	if err := checkSchemaRefs(chart("garbage", `{not json`)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("garbage schema: %v", err)
	}
}
