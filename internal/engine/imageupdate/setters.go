package imageupdate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The parts a marker may set.
const (
	partAll    = ""
	partTag    = "tag"
	partName   = "name"
	partDigest = "digest"
)

// marker is a parsed `{"$imagepolicy": "..."}` comment.
type marker struct {
	setter string // the marker's value as written
	policy string // "<namespace>:<name>"
	part   string
}

// edit replaces data[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// fileRun is the state of one file's rewrite.
type fileRun struct {
	file     string
	src      *source
	policies map[string]Image
	res      *Result
	edits    []edit
	object   ObjectID
}

// rewrite applies the markers of every document of data. It returns the
// new bytes and whether anything changed; problems go to res.
func rewrite(file string, data []byte, policies map[string]Image, res *Result) ([]byte, bool) {
	run := &fileRun{file: file, src: newSource(data), policies: policies, res: res}
	docs, err := parseDocuments(data)
	if err != nil {
		res.skip(Skipped{File: file, Reason: "not valid YAML: " + err.Error()})
		return data, false
	}
	// Changes are recorded only once the whole file parsed.
	var changes []Change
	for _, doc := range docs {
		run.object = objectOf(doc)
		changes = append(changes, run.walk(doc, false)...)
	}
	if len(run.edits) == 0 {
		return data, false
	}
	sort.Slice(run.edits, func(i, j int) bool { return run.edits[i].start < run.edits[j].start })
	var out bytes.Buffer
	last := 0
	for _, e := range run.edits {
		out.Write(data[last:e.start])
		out.WriteString(e.text)
		last = e.end
	}
	out.Write(data[last:])
	res.Changes = append(res.Changes, changes...)
	return out.Bytes(), true
}

// parseDocuments decodes every document of data. The content is the
// tenant's: a parser panic is turned into an error, never a crash.
func parseDocuments(data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			docs, err = nil, fmt.Errorf("the YAML parser failed: %v", p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

// walk visits a node's scalars and applies the markers found on them.
func (r *fileRun) walk(n *yaml.Node, flow bool) []Change {
	var changes []Change
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			changes = append(changes, r.walk(c, flow)...)
		}
	case yaml.MappingNode:
		flow = flow || n.Style&yaml.FlowStyle != 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			changes = append(changes, r.visit(v, k.Line, flow, v.LineComment, v.HeadComment, k.HeadComment, k.LineComment)...)
		}
	case yaml.SequenceNode:
		flow = flow || n.Style&yaml.FlowStyle != 0
		for _, item := range n.Content {
			changes = append(changes, r.visit(item, item.Line, flow, item.LineComment, item.HeadComment)...)
		}
	}
	return changes
}

// visit applies the marker found in a value's comments, or walks into it.
// at is the line of the value's key (or of the item).
func (r *fileRun) visit(v *yaml.Node, at int, flow bool, comments ...string) []Change {
	m, found := r.findMarker(v, comments)
	if !found {
		return r.walk(v, flow)
	}
	if v.Kind != yaml.ScalarNode {
		r.skip(at, fmt.Sprintf("marker '%s' is on a value that is not a scalar; put it on the image's line", m.setter))
		return r.walk(v, flow)
	}
	if c, ok := r.apply(v, m, flow); ok {
		return []Change{c}
	}
	return nil
}

// findMarker reads the first comment holding a valid marker. A comment
// that mentions the token but is no valid marker is reported.
func (r *fileRun) findMarker(v *yaml.Node, comments []string) (marker, bool) {
	for _, comment := range comments {
		lines := strings.Split(comment, "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if !strings.Contains(lines[i], Token) {
				continue
			}
			m, err := parseMarker(lines[i])
			if err != nil {
				r.skip(v.Line, err.Error())
				continue
			}
			return m, true
		}
	}
	return marker{}, false
}

func (r *fileRun) skip(line int, reason string) {
	r.res.skip(Skipped{File: r.file, Line: line, Reason: reason})
}

// apply computes the new value of a marked scalar and records the edit.
func (r *fileRun) apply(v *yaml.Node, m marker, flow bool) (Change, bool) {
	img, ok := r.policies[m.policy]
	if !ok {
		r.res.missing(Missing{File: r.file, Line: v.Line, Policy: m.policy})
		return Change{}, false
	}
	var want string
	switch m.part {
	case partAll:
		if img.Name != "" && img.Tag != "" {
			want = img.Ref()
		}
	case partTag:
		want = img.Tag
	case partName:
		want = img.Name
	case partDigest:
		if img.Digest == "" {
			r.skip(v.Line, fmt.Sprintf("policy '%s' reflects no digest: set its digestReflectionPolicy to IfNotPresent or Always", m.policy))
			return Change{}, false
		}
		want = img.Digest
	}
	if want == "" {
		r.skip(v.Line, fmt.Sprintf("policy '%s' has no latest image yet", m.policy))
		return Change{}, false
	}
	if v.Value == want {
		return Change{}, false
	}
	start, end, ok := r.src.span(v)
	if !ok {
		r.skip(v.Line, "the marked value cannot be rewritten in place: use a single-line plain or quoted scalar without anchor or tag")
		return Change{}, false
	}
	text, ok := encode(want, v, flow)
	if !ok {
		r.skip(v.Line, fmt.Sprintf("policy '%s' gives a value that is no valid YAML string", m.policy))
		return Change{}, false
	}
	r.edits = append(r.edits, edit{start: start, end: end, text: text})
	return Change{File: r.file, Line: v.Line, Object: r.object, OldValue: v.Value, NewValue: want, Setter: m.setter}, true
}

// parseMarker reads `{"$imagepolicy": "<ns>:<name>[:part]"}` from a
// comment line.
func parseMarker(line string) (marker, error) {
	bad := func(why string) error {
		text := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#"))
		if len(text) > 120 {
			text = text[:120] + "…"
		}
		return fmt.Errorf("marker '%s' is not valid (%s): write {\"%s\": \"<namespace>:<name>\"}, optionally ending in :tag, :name or :digest", text, why, Token)
	}
	i, j := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
	if i < 0 || j < i {
		return marker{}, bad("no JSON object")
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(line[i:j+1]), &obj); err != nil {
		return marker{}, bad("not JSON")
	}
	setter, ok := obj[Token].(string)
	if !ok {
		return marker{}, bad("no string value for " + Token)
	}
	parts := strings.Split(setter, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return marker{}, bad("want namespace and name")
	}
	m := marker{setter: setter, policy: parts[0] + ":" + parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case partTag, partName, partDigest:
			m.part = parts[2]
		default:
			return marker{}, bad("unknown part '" + parts[2] + "'")
		}
	}
	return m, nil
}

// objectOf reads the identity of a document's object.
func objectOf(doc *yaml.Node) ObjectID {
	var id ObjectID
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return id
	}
	top := doc.Content[0]
	id.APIVersion = scalarAt(top, "apiVersion")
	id.Kind = scalarAt(top, "kind")
	if meta := valueAt(top, "metadata"); meta != nil && meta.Kind == yaml.MappingNode {
		id.Name = scalarAt(meta, "name")
		id.Namespace = scalarAt(meta, "namespace")
	}
	return id
}

func valueAt(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarAt(m *yaml.Node, key string) string {
	if v := valueAt(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
