package chartrepo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// A repository index is decoded into its top-level fields and, chart by
// chart, its entries, each a JSON value with its keys sorted: what the
// canonical (JSON, so also YAML) serialisation is written from.
//
// A YAML index is not parsed as one document when it can be helped: a
// 25 MiB index becomes a node tree ten times its size, and with the JSON
// conversions that follow a whole-document parse peaks above 1 GiB (what
// made Flux's controller use 800 MiB for a 22 MiB index). The entries of an
// index as Helm and the usual tools write it are blocks of lines, one per
// chart; splitDocument cuts them apart and each block is parsed alone, so
// that at most one chart's tree is alive at a time. Anything the cut cannot
// vouch for (another layout, document markers, an alias to an anchor of
// another block) falls back to parsing the whole document; both ways give
// the same result (FuzzParseIndex checks it).

// decoded is an index cut into what the canonical form is written from.
type decoded struct {
	// top holds the top-level fields other than entries, as JSON.
	top map[string]json.RawMessage
	// entries maps each chart to its entries, as JSON; hasEntries says the
	// document had an entries field (null or not).
	entries    map[string][]json.RawMessage
	hasEntries bool
}

// errNotMapping is the decode error of a document that is not a mapping.
var errNotMapping = errors.New("the document is not a YAML mapping (an HTML page or a wrong URL?)")

// errEntriesShape is the decode error of an entries field that does not map
// chart names to lists.
var errEntriesShape = errors.New("entries must map chart names to lists of chart versions")

// decodeIndex decodes a JSON or YAML index.
func decodeIndex(data []byte) (*decoded, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return decodeJSON(t)
	}
	if top, blocks, ok := splitDocument(data); ok {
		if d, err := decodeBlocks(top, blocks, len(data)); err == nil {
			return d, nil
		}
	}
	return decodeYAML(data)
}

// decodeJSON decodes a JSON index, sorting the keys of every entry.
func decodeJSON(data []byte) (*decoded, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	d := &decoded{top: top}
	raw, ok := top["entries"]
	delete(top, "entries")
	if !ok {
		return d, nil
	}
	d.hasEntries = true
	if string(raw) == "null" {
		return d, nil
	}
	var entries map[string][]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, errEntriesShape
	}
	d.entries = make(map[string][]json.RawMessage, len(entries))
	for name, list := range entries {
		out := make([]json.RawMessage, len(list))
		for i, e := range list {
			var v any
			dec := json.NewDecoder(bytes.NewReader(e))
			dec.UseNumber() // numbers as written: the canonical form stays stable
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			js, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			out[i] = js
		}
		d.entries[name] = out
	}
	return d, nil
}

// decodeYAML parses the whole document at once.
func decodeYAML(data []byte) (*decoded, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	root := document(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, errNotMapping
	}
	c := &converter{budget: nodeBudget(len(data))}
	d := &decoded{top: map[string]json.RawMessage{}}
	kvs, err := c.pairs(root)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		key, err := c.key(kv[0])
		if err != nil {
			return nil, err
		}
		if key != "entries" {
			if d.top[key], err = c.json(kv[1]); err != nil {
				return nil, err
			}
			continue
		}
		d.hasEntries, d.entries = true, nil
		if v := resolve(kv[1]); v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if d.entries, err = c.entries(kv[1], nil); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// decodeBlocks parses the document without its entries, then each chart's
// block of entries on its own.
func decodeBlocks(top []byte, blocks [][]byte, size int) (*decoded, error) {
	d, err := decodeYAML(top)
	if err != nil {
		return nil, err
	}
	d.hasEntries, d.entries = true, nil
	if len(blocks) == 0 {
		return d, nil // "entries:" and nothing under it: null
	}
	d.entries = map[string][]json.RawMessage{}
	c := &converter{budget: nodeBudget(size)}
	for _, block := range blocks {
		var doc yaml.Node
		if err := yaml.Unmarshal(block, &doc); err != nil {
			return nil, err
		}
		root := document(&doc)
		if root == nil || root.Kind != yaml.MappingNode || len(root.Content) != 2 {
			return nil, errEntriesShape
		}
		if _, err := c.entries(root, d.entries); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// splitDocument cuts a YAML index laid out as Helm writes it into the
// document without its entries (the entries line kept as "entries: {}")
// and one block of lines per chart, each a slice of data. ok is false for
// any other layout.
func splitDocument(data []byte) (top []byte, blocks [][]byte, ok bool) {
	entriesAt, entriesEnd := -1, -1 // the offsets of the entries line and of the line after it
	for off := 0; off < len(data); {
		line, next := lineAt(data, off)
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.IndexByte(line, '\t') >= 0 {
			return nil, nil, false
		}
		if string(line) == "entries:" {
			if entriesAt >= 0 {
				return nil, nil, false
			}
			entriesAt, entriesEnd = off, next
		}
		off = next
	}
	if entriesAt < 0 {
		return nil, nil, false
	}
	end, indent, cur := len(data), -1, -1 // cur: the offset where the current chart's block starts
	for off := entriesEnd; off < len(data); {
		line, next := lineAt(data, off)
		trimmed := bytes.TrimLeft(line, " ")
		n := len(line) - len(trimmed)
		switch {
		case len(trimmed) == 0 || trimmed[0] == '#':
			// Blank lines and comments belong to the block they are in.
		case n == 0:
			end = off
		case indent < 0 || n == indent:
			if indent < 0 {
				indent = n
			}
			if trimmed[0] == '-' {
				if cur < 0 {
					return nil, nil, false
				}
				break
			}
			// A chart's key: its name and a colon, nothing after it.
			if trimmed[len(trimmed)-1] != ':' || bytes.ContainsAny(trimmed, "{}[]&*!|>'\"%@`") {
				return nil, nil, false
			}
			if cur >= 0 {
				blocks = append(blocks, data[cur:off])
			}
			cur = off
		case n < indent || cur < 0:
			return nil, nil, false
		}
		if end != len(data) {
			break
		}
		off = next
	}
	if cur >= 0 {
		blocks = append(blocks, data[cur:end])
	}
	top = make([]byte, 0, entriesAt+len(data)-end+16)
	top = append(top, data[:entriesAt]...)
	top = append(top, "entries: {}\n"...)
	top = append(top, data[end:]...)
	return top, blocks, true
}

// lineAt returns the line starting at off without its line break and
// trailing spaces, and the offset of the next line.
func lineAt(data []byte, off int) (line []byte, next int) {
	i := bytes.IndexByte(data[off:], '\n')
	if i < 0 {
		next = len(data)
	} else {
		next = off + i + 1
	}
	return bytes.TrimRight(data[off:next], " \r\n"), next
}

// document returns the content of a document node.
func document(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return resolve(n.Content[0])
	}
	return resolve(n)
}

// nodeBudget is how many nodes a document of size bytes may expand to
// through aliases: plenty for any real index, not for a billion laughs.
func nodeBudget(size int) int { return 2*size + 1<<16 }

// converter turns YAML nodes into JSON as sigs.k8s.io/yaml does (keys
// sorted), within a budget of nodes and a depth limit (an alias inside
// its own anchor nests forever).
type converter struct{ budget, depth int }

// maxDepth bounds the nesting of values and merge keys.
const maxDepth = 256

// errTooDeep is the error of a document nested past maxDepth.
var errTooDeep = fmt.Errorf("%w: the document nests deeper than %d levels (an alias inside its own anchor?)", ErrTooLarge, maxDepth)

// enter counts one node against the budget and one level of nesting; the
// caller defers leave.
func (c *converter) enter() error {
	if c.budget--; c.budget < 0 {
		return fmt.Errorf("%w: the document's aliases expand past %d nodes", ErrTooLarge, nodeBudget(0))
	}
	if c.depth++; c.depth > maxDepth {
		return errTooDeep
	}
	return nil
}

func (c *converter) leave() { c.depth-- }

// entries adds the entries of a mapping of chart names to lists into into
// (a new map when nil) and returns it.
func (c *converter) entries(n *yaml.Node, into map[string][]json.RawMessage) (map[string][]json.RawMessage, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, errEntriesShape
	}
	if into == nil {
		into = map[string][]json.RawMessage{}
	}
	kvs, err := c.pairs(n)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		name, err := c.key(kv[0])
		if err != nil {
			return nil, err
		}
		list := resolve(kv[1])
		if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
			into[name] = nil
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return nil, errEntriesShape
		}
		out := make([]json.RawMessage, 0, len(list.Content))
		for _, e := range list.Content {
			js, err := c.json(e)
			if err != nil {
				return nil, err
			}
			out = append(out, js)
		}
		into[name] = out
	}
	return into, nil
}

// json converts n to JSON.
func (c *converter) json(n *yaml.Node) (json.RawMessage, error) {
	v, err := c.value(n)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// value converts n to the Go value encoding/json writes (maps with string
// keys, slices, strings, numbers, booleans, nil).
func (c *converter) value(n *yaml.Node) (any, error) {
	if err := c.enter(); err != nil {
		return nil, err
	}
	defer c.leave()
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		kvs, err := c.pairs(n)
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			k, err := c.key(kv[0])
			if err != nil {
				return nil, err
			}
			v, err := c.value(kv[1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// key converts a mapping key to a string, as sigs.k8s.io/yaml does.
func (c *converter) key(n *yaml.Node) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: a mapping key must be a scalar", n.Line)
	}
	v, err := scalar(n)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "null", nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	return fmt.Sprint(v), nil
}

// pairs returns the key-value pairs of a mapping, a merge key's mappings
// ("<<: *base") first, so that the mapping's own keys win.
func (c *converter) pairs(n *yaml.Node) ([][2]*yaml.Node, error) {
	if err := c.enter(); err != nil {
		return nil, err
	}
	defer c.leave()
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			v = resolve(v)
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content
			}
			for _, s := range sources {
				if s = resolve(s); s.Kind == yaml.MappingNode {
					kvs, err := c.pairs(s)
					if err != nil {
						return nil, err
					}
					merged = append(merged, kvs...)
				}
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	return append(merged, own...), nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// scalar converts a scalar by its resolved tag.
func scalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		var u uint64
		if err := n.Decode(&u); err != nil {
			return nil, err
		}
		return u, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value, nil // JSON has no infinity: keep it as written
		}
		return f, nil
	}
	return n.Value, nil
}
