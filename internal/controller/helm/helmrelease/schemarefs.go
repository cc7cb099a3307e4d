package helmrelease

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
)

// knownDrafts are the metaschemas Helm's validator has built in: a
// reference to one loads nothing.
var knownDrafts = map[string]bool{
	"json-schema.org/schema":               true,
	"json-schema.org/draft/2020-12/schema": true,
	"json-schema.org/draft/2019-09/schema": true,
	"json-schema.org/draft-07/schema":      true,
	"json-schema.org/draft-06/schema":      true,
	"json-schema.org/draft-04/schema":      true,
}

// checkSchemaRefs refuses a chart (or a subchart) whose values.schema.json
// refers to a schema outside itself. Helm's validator loads such a
// reference itself: a file:// one (or a relative one, resolved against
// file:///values.schema.json) from the controller's filesystem, an
// http(s) one from the controller's network, and what it loads can show
// in the error (an enum's values). A tenant's chart must not read the
// controller's files or reach its network that way. Allowed: references
// inside the schema ("#..."), urn: ones (Helm resolves them to an
// accept-all schema) and the JSON Schema drafts the validator has built in.
func checkSchemaRefs(c *chartv2.Chart) error {
	if c == nil {
		return nil
	}
	if len(c.Schema) > 0 {
		dec := json.NewDecoder(bytes.NewReader(c.Schema))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("chart %s: values.schema.json is not JSON: %w", c.Name(), err)
		}
		if path, ref := externalRef(doc, ""); ref != "" {
			return fmt.Errorf("chart %s: values.schema.json refers to %q (at %s), a schema outside the chart, which Driftless does not load: "+
				"inline that schema in the chart's values.schema.json, or set install/upgrade.disableSchemaValidation", c.Name(), ref, path)
		}
	}
	for _, d := range c.Dependencies() {
		if err := checkSchemaRefs(d); err != nil {
			return err
		}
	}
	return nil
}

// externalRef returns the first reference to a schema outside the
// document and its JSON pointer, in a stable order.
func externalRef(v any, path string) (string, string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
			if s, ok := v[k].(string); ok {
				switch k {
				case "$ref", "$dynamicRef", "$recursiveRef":
					if !localRef(s) {
						return p, s
					}
				case "$schema":
					if !knownDraft(s) {
						return p, s
					}
				}
				continue
			}
			if p, ref := externalRef(v[k], p); ref != "" {
				return p, ref
			}
		}
	case []any:
		for i, e := range v {
			if p, ref := externalRef(e, fmt.Sprintf("%s/%d", path, i)); ref != "" {
				return p, ref
			}
		}
	}
	return "", ""
}

func localRef(ref string) bool {
	return strings.HasPrefix(ref, "#") || strings.HasPrefix(strings.ToLower(ref), "urn:") || knownDraft(ref)
}

func knownDraft(url string) bool {
	u := strings.TrimSuffix(url, "#")
	if rest, ok := strings.CutPrefix(u, "http://"); ok {
		u = rest
	} else if rest, ok := strings.CutPrefix(u, "https://"); ok {
		u = rest
	} else {
		return false
	}
	return knownDrafts[u]
}
