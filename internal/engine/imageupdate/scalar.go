package imageupdate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// source finds a parsed scalar in the original bytes.
type source struct {
	data  []byte
	lines []int // byte offset where each line starts
}

func newSource(data []byte) *source {
	s := &source{data: data, lines: []int{0}}
	for i, b := range data {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// span returns where a single-line scalar's text (quotes included) starts
// and ends. It is false for anything it cannot prove: the text found must
// read back as the node's value.
func (s *source) span(v *yaml.Node) (int, int, bool) {
	if v.Kind != yaml.ScalarNode || v.Anchor != "" ||
		v.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 ||
		v.Line < 1 || v.Line > len(s.lines) || v.Column < 1 {
		return 0, 0, false
	}
	lineStart := s.lines[v.Line-1]
	lineEnd := len(s.data)
	if v.Line < len(s.lines) {
		lineEnd = s.lines[v.Line] - 1
	}
	line := string(s.data[lineStart:lineEnd])
	off := 0
	for range v.Column - 1 { // columns count characters
		if off >= len(line) {
			return 0, 0, false
		}
		_, n := utf8.DecodeRuneInString(line[off:])
		off += n
	}
	rest := line[off:]
	var n int
	switch {
	case v.Style&yaml.DoubleQuotedStyle != 0:
		n = quotedLen(rest, '"')
	case v.Style&yaml.SingleQuotedStyle != 0:
		n = quotedLen(rest, '\'')
	default:
		if strings.HasPrefix(rest, v.Value) {
			n = len(v.Value)
		}
	}
	if n == 0 || !readsAs(rest[:n], v.Value) {
		return 0, 0, false
	}
	return lineStart + off, lineStart + off + n, true
}

// quotedLen is the length of the quoted scalar text starts with, or 0 when
// it does not close on this line.
func quotedLen(text string, q byte) int {
	if text == "" || text[0] != q {
		return 0
	}
	for i := 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q && q == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i++
		case text[i] == q:
			return i + 1
		}
	}
	return 0
}

// readsAs says whether text parses as one YAML scalar holding value.
func readsAs(text, value string) bool {
	v, ok := parseScalar(text)
	return ok && v.Value == value
}

func parseScalar(text string) (*yaml.Node, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil || len(doc.Content) != 1 {
		return nil, false
	}
	v := doc.Content[0]
	if v.Kind != yaml.ScalarNode {
		return nil, false
	}
	return v, true
}

// encode writes value in the old scalar's style where that is safe:
// plain stays plain unless it would read as another value or type, single
// quotes stay unless the value needs escapes, anything else is double
// quoted. The text always reads back as value.
func encode(value string, old *yaml.Node, flow bool) (string, bool) {
	if !utf8.ValidString(value) {
		return "", false
	}
	var text string
	switch {
	case old.Style&yaml.DoubleQuotedStyle != 0:
		text = doubleQuote(value)
	case old.Style&yaml.SingleQuotedStyle != 0 && singleQuotable(value):
		text = "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case plainSafe(value, old.Tag, flow):
		text = value
	default:
		text = doubleQuote(value)
	}
	if !readsAs(text, value) {
		return "", false
	}
	return text, true
}

func singleQuotable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// plainSafe says whether s written plain reads back as the string s (or
// as the old value's own type, such as an integer tag replaced by one).
func plainSafe(s, oldTag string, flow bool) bool {
	if s == "" || strings.TrimSpace(s) != s || !singleQuotable(s) {
		return false
	}
	if flow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	v, ok := parseScalar(s)
	if !ok || v.Value != s || v.Style != 0 {
		return false
	}
	return v.Tag == "!!str" || v.Tag == oldTag
}

// doubleQuote writes s as a double-quoted YAML scalar.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
