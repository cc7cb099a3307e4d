package sops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlIndent is the indentation SOPS writes YAML with.
const yamlIndent = 4

// maxAliasedValues bounds the values reached through YAML aliases: they can
// make a small file describe an exponentially large tree.
const maxAliasedValues = 1 << 16

// maxAliasedBytes bounds the text (scalars, keys, comments) reached through
// YAML aliases: a list whose items all name one long encrypted value would
// otherwise be decrypted, and held, once per item (items of a list share the
// additional data, so every copy authenticates).
const maxAliasedBytes = MaxFileSize

// yamlLoader builds trees from yaml.v3 nodes within an alias budget.
type yamlLoader struct {
	budget  int // values
	bytes   int
	aliased int // depth of alias expansion
}

func (l *yamlLoader) spend(n *yaml.Node) error {
	if l.aliased == 0 {
		return nil
	}
	l.budget--
	if l.budget < 0 {
		return fmt.Errorf("line %d: aliases expand to more than %d values (alias bomb?)", n.Line, maxAliasedValues)
	}
	return l.spendText(n)
}

// spendText charges the text of a node reached through an alias.
func (l *yamlLoader) spendText(n *yaml.Node) error {
	if l.aliased == 0 {
		return nil
	}
	l.bytes -= len(n.Value) + len(n.HeadComment) + len(n.LineComment) + len(n.FootComment)
	if l.bytes < 0 {
		return fmt.Errorf("line %d: aliases expand to more than %d bytes (alias bomb?)", n.Line, maxAliasedBytes)
	}
	return nil
}

// loadYAML reads every document of a YAML stream into a mapping, comments
// included, the way SOPS builds its tree.
func loadYAML(data []byte) ([]mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	l := &yamlLoader{budget: maxAliasedValues, bytes: maxAliasedBytes}
	var docs []mapping
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
		m, err := l.mapping(&doc, nil, false)
		if err != nil {
			return nil, fmt.Errorf("YAML document %d: %w", len(docs)+1, err)
		}
		docs = append(docs, m)
	}
	return docs, nil
}

// yamlComments splits a yaml.v3 comment block into comment entries, dropping
// each line's leading '#'.
func yamlComments(block string, inline bool) []comment {
	var out []comment
	for _, line := range strings.Split(block, "\n") {
		if line != "" {
			out = append(out, comment{text: line[1:], inline: inline})
		}
	}
	return out
}

func appendComments(m mapping, block string, inline bool) mapping {
	for _, c := range yamlComments(block, inline) {
		m = append(m, entry{comment: &c})
	}
	return m
}

// mapping appends the content of a document or mapping node to m. handled
// says whether the node's own comments were already taken.
func (l *yamlLoader) mapping(n *yaml.Node, m mapping, handled bool) (mapping, error) {
	if err := l.spend(n); err != nil {
		return nil, err
	}
	if !handled {
		m = appendComments(m, n.HeadComment, false)
		m = appendComments(m, n.LineComment, false)
	}
	var err error
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if m, err = l.mapping(c, m, false); err != nil {
				return nil, err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if err := l.spendText(k); err != nil {
				return nil, err
			}
			m = appendComments(m, k.HeadComment, false)
			m = appendComments(m, k.LineComment, false)
			scalar := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
			if scalar {
				m = appendComments(m, v.HeadComment, false)
				m = appendComments(m, v.LineComment, true)
			}
			var key any
			if err := k.Decode(&key); err != nil {
				return nil, fmt.Errorf("line %d: %w", k.Line, err)
			}
			ks, ok := key.(string)
			if !ok {
				return nil, fmt.Errorf("line %d: mapping key is a %T, SOPS supports only string keys", k.Line, key)
			}
			val, err := l.value(v, scalar)
			if err != nil {
				return nil, err
			}
			m = append(m, entry{key: ks, value: val})
			if scalar {
				m = appendComments(m, v.FootComment, false)
			}
			m = appendComments(m, k.FootComment, false)
		}
	case yaml.SequenceNode:
		return nil, fmt.Errorf("line %d: a top-level sequence is not a SOPS document", n.Line)
	case yaml.ScalarNode:
		if n.ShortTag() != "!!null" {
			return nil, fmt.Errorf("line %d: a top-level scalar is not a SOPS document", n.Line)
		}
	case yaml.AliasNode:
		l.aliased++
		m, err = l.mapping(n.Alias, m, false)
		l.aliased--
		if err != nil {
			return nil, err
		}
	}
	if !handled {
		m = appendComments(m, n.FootComment, false)
	}
	return m, nil
}

func (l *yamlLoader) value(n *yaml.Node, handled bool) (any, error) {
	if err := l.spend(n); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.SequenceNode:
		var s []any
		addComments := func(block string, inline bool) {
			for _, c := range yamlComments(block, inline) {
				s = append(s, c)
			}
		}
		if !handled {
			addComments(n.HeadComment, false)
			addComments(n.LineComment, false)
		}
		for _, item := range n.Content {
			addComments(item.HeadComment, false)
			addComments(item.LineComment, true)
			v, err := l.value(item, true)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
			addComments(item.FootComment, false)
		}
		if !handled {
			addComments(n.FootComment, false)
		}
		return s, nil
	case yaml.MappingNode:
		return l.mapping(n, mapping{}, handled)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		switch v.(type) {
		case nil, string, int, float64, bool:
			return v, nil
		default:
			return nil, fmt.Errorf("line %d: unsupported scalar of type %T", n.Line, v)
		}
	case yaml.AliasNode:
		l.aliased++
		defer func() { l.aliased-- }()
		return l.value(n.Alias, false)
	}
	return nil, nil
}

// emitYAML writes documents as SOPS does: four-space indentation, comments
// restored around the values they were read with.
func emitYAML(docs []mapping, limit int) ([]byte, error) {
	b := newBoundedBuffer(limit)
	enc := yaml.NewEncoder(b)
	enc.SetIndent(yamlIndent)
	for _, doc := range docs {
		m, err := mappingToYAML(doc)
		if err != nil {
			return nil, err
		}
		if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}); err != nil {
			return nil, yamlWriteError(b, err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, yamlWriteError(b, err)
	}
	return b.Bytes(), nil
}

// yamlWriteError prefers the buffer's own error: the encoder reports it as
// text only.
func yamlWriteError(b *boundedBuffer, err error) error {
	if b.Err() != nil {
		return b.Err()
	}
	return fmt.Errorf("writing YAML: %w", err)
}

// pendingComments collects comment lines until the node they belong to is
// written: full-line comments go above it, inline ones beside it.
type pendingComments struct {
	head, inline []string
}

func (p *pendingComments) add(c comment) {
	if c.inline {
		p.inline = append(p.inline, c.text)
	} else {
		p.head = append(p.head, c.text)
	}
}

func joinComments(existing string, lines []string, before bool) string {
	if len(lines) == 0 {
		return existing
	}
	block := "#" + strings.Join(lines, "\n#")
	switch {
	case existing == "":
		return block
	case before:
		return block + "\n" + existing
	default:
		return existing + "\n" + block
	}
}

func mappingToYAML(m mapping) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	var p pendingComments
	for _, e := range m {
		if e.comment != nil {
			p.add(*e.comment)
			continue
		}
		if len(n.Content) == 0 {
			n.HeadComment = joinComments(n.HeadComment, p.head, true)
			p.head = nil
		}
		k := &yaml.Node{}
		if err := k.Encode(e.key); err != nil {
			return nil, fmt.Errorf("writing YAML key %q: %w", e.key, err)
		}
		k.HeadComment = joinComments(k.HeadComment, p.head, true)
		v, err := valueToYAML(e.value)
		if err != nil {
			return nil, err
		}
		v.LineComment = joinComments(v.LineComment, p.inline, false)
		p = pendingComments{}
		n.Content = append(n.Content, k, v)
	}
	rest := append(p.head, p.inline...)
	if len(n.Content) == 0 {
		n.HeadComment = joinComments(n.HeadComment, rest, true)
	} else {
		last := n.Content[len(n.Content)-2]
		last.FootComment = joinComments(last.FootComment, rest, false)
	}
	return n, nil
}

func sequenceToYAML(s []any) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	var p pendingComments
	for _, item := range s {
		if c, ok := item.(comment); ok {
			p.add(c)
			continue
		}
		if len(n.Content) == 0 {
			n.HeadComment = joinComments(n.HeadComment, p.head, true)
			p.head = nil
		}
		v, err := valueToYAML(item)
		if err != nil {
			return nil, err
		}
		v.HeadComment = joinComments(v.HeadComment, p.head, true)
		v.LineComment = joinComments(v.LineComment, p.inline, false)
		p = pendingComments{}
		n.Content = append(n.Content, v)
	}
	rest := append(p.head, p.inline...)
	if len(n.Content) == 0 {
		n.HeadComment = joinComments(n.HeadComment, rest, true)
	} else {
		last := n.Content[len(n.Content)-1]
		last.FootComment = joinComments(last.FootComment, rest, false)
	}
	return n, nil
}

func valueToYAML(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case mapping:
		return mappingToYAML(v)
	case []any:
		return sequenceToYAML(v)
	default:
		n := &yaml.Node{}
		if err := n.Encode(v); err != nil {
			return nil, fmt.Errorf("writing YAML value: %w", err)
		}
		return n, nil
	}
}
