package envsubst

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// op is the operator of an expression.
type op uint8

const (
	opValue          op = iota // ${var}
	opLength                   // ${#var}
	opUpperFirst               // ${var^pat}
	opUpperAll                 // ${var^^pat}
	opLowerFirst               // ${var,pat}
	opLowerAll                 // ${var,,pat}
	opSubstring                // ${var:off} ${var:off:len}
	opTrimPrefix               // ${var#pat}
	opTrimPrefixLong           // ${var##pat}
	opTrimSuffix               // ${var%pat}
	opTrimSuffixLong           // ${var%%pat}
	opDefaultUnset             // ${var-def} ${var=def}
	opDefaultEmpty             // ${var:-def} ${var:=def}
	opReplaceFirst             // ${var/pat/rep}
	opReplaceAll               // ${var//pat/rep}
	opReplacePrefix            // ${var/#pat/rep}
	opReplaceSuffix            // ${var/%pat/rep}
)

// node is a piece of parsed text: a literal or an expression.
type node interface{}

// literal is plain text. Quoted literals came from a backslash escape and
// never act as pattern characters.
type literal struct {
	text   string
	quoted bool
}

// word is a sequence of literals and nested expressions.
type word []node

// expr is one ${...} expression.
type expr struct {
	start, end int // byte span of the expression in the source
	name       string
	op         op
	arg1       word // default, pattern or offset
	arg2       word // replacement or length
	hasArg2    bool
}

// parser turns a source string into nodes.
type parser struct {
	src string
	pos int
}

// parse splits src into literals and expressions.
func parse(src string) ([]node, error) {
	p := &parser{src: src}
	var nodes []node
	for p.pos < len(src) {
		i := strings.IndexByte(src[p.pos:], '$')
		if i < 0 {
			nodes = append(nodes, literal{text: src[p.pos:]})
			break
		}
		if i > 0 {
			nodes = append(nodes, literal{text: src[p.pos : p.pos+i]})
			p.pos += i
		}
		switch {
		case strings.HasPrefix(src[p.pos:], "$${"):
			nodes = append(nodes, literal{text: "${"})
			p.pos += 3
		case strings.HasPrefix(src[p.pos:], "${"):
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, e)
		default:
			nodes = append(nodes, literal{text: "$"})
			p.pos++
		}
	}
	return nodes, nil
}

// errorAt builds a syntax-class error for the expression starting at start.
func (p *parser) errorAt(start int, kind error, name, format string, args ...any) error {
	return newError(p.src, start, p.pos, kind, name, fmt.Sprintf(format, args...))
}

// unsupported reports a form that is recognised but refused, quoting the
// whole expression when its closing brace can be found.
func (p *parser) unsupported(start int, name, detail string) error {
	end, depth := -1, 0
	for i := p.pos; i < len(p.src) && end < 0; i++ {
		switch p.src[i] {
		case '{':
			depth++
		case '}':
			if depth == 0 {
				end = i + 1
			}
			depth--
		}
	}
	if end < 0 {
		end = p.pos
	}
	return newError(p.src, start, end, ErrUnsupported, name, detail)
}

// peek returns the byte at the current position, or 0 at the end.
func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// name reads a variable name at the current position.
func (p *parser) name() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || isAlpha(c) || (p.pos > start && isDigit(c)) {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

// expr parses the expression starting with "${" at the current position.
func (p *parser) expr() (*expr, error) {
	e := &expr{start: p.pos}
	p.pos += 2
	if p.peek() == '#' && p.pos+1 < len(p.src) && p.src[p.pos+1] != '}' {
		p.pos++
		e.op = opLength
		if e.name = p.name(); e.name == "" {
			return nil, p.badName(e.start)
		}
		if p.peek() != '}' {
			return nil, p.errorAt(e.start, ErrSyntax, e.name, "${#%s} takes no operator", e.name)
		}
		p.pos++
		e.end = p.pos
		return e, nil
	}
	if e.name = p.name(); e.name == "" {
		return nil, p.badName(e.start)
	}
	if err := p.operator(e); err != nil {
		return nil, err
	}
	e.end = p.pos
	return e, nil
}

// badName reports an expression that does not start with a valid name.
func (p *parser) badName(start int) error {
	rest := p.src[p.pos:]
	switch {
	case rest == "":
		return p.errorAt(start, ErrSyntax, "", "unterminated expression, missing '}'")
	case rest[0] == '}':
		p.pos++
		return p.errorAt(start, ErrSyntax, "", "empty variable name")
	case rest[0] == '!':
		return p.unsupported(start, "", "indirect expansion ${!var} is not supported")
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return p.errorAt(start, ErrSyntax, "", "invalid variable name starting with %q: names must match ^[_[:alpha:]][_[:alpha:][:digit:]]*$", r)
}

// operator parses what follows the name, up to and including the closing
// brace.
func (p *parser) operator(e *expr) error {
	c := p.peek()
	p.pos++
	var err error
	switch c {
	case 0:
		p.pos--
		return p.errorAt(e.start, ErrSyntax, e.name, "unterminated expression, missing '}'")
	case '}':
		e.op = opValue
		return nil
	case '^', ',':
		e.op = opUpperFirst
		if c == ',' {
			e.op = opLowerFirst
		}
		if p.peek() == c {
			p.pos++
			e.op++
		}
		e.arg1, _, err = p.word(e.start, "}")
	case '#', '%':
		e.op = opTrimPrefix
		if c == '%' {
			e.op = opTrimSuffix
		}
		if p.peek() == c {
			p.pos++
			e.op++
		}
		e.arg1, _, err = p.word(e.start, "}")
	case '/':
		err = p.replace(e)
	case ':':
		err = p.colon(e)
	case '-', '=':
		e.op = opDefaultUnset
		e.arg1, _, err = p.word(e.start, "}")
	case '+', '?':
		return p.unsupported(e.start, e.name, fmt.Sprintf("the ${var%cword} form is not supported", c))
	case '@':
		return p.unsupported(e.start, e.name, "${var@operator} transformations are not supported")
	case '[':
		return p.unsupported(e.start, e.name, "arrays are not supported")
	default:
		p.pos--
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		return p.errorAt(e.start, ErrSyntax, e.name, "unexpected %q after variable name %q", r, e.name)
	}
	return err
}

// replace parses ${var/pat/rep} and its anchored and global forms.
func (p *parser) replace(e *expr) error {
	e.op = opReplaceFirst
	switch p.peek() {
	case '/':
		e.op = opReplaceAll
		p.pos++
	case '#':
		e.op = opReplacePrefix
		p.pos++
	case '%':
		e.op = opReplaceSuffix
		p.pos++
	}
	var term byte
	var err error
	if e.arg1, term, err = p.word(e.start, "/}"); err != nil {
		return err
	}
	if term == '/' {
		e.hasArg2 = true
		e.arg2, _, err = p.word(e.start, "}")
	}
	return err
}

// colon parses the forms starting with ':' after the name.
func (p *parser) colon(e *expr) error {
	var err error
	switch c := p.peek(); c {
	case '-', '=':
		p.pos++
		e.op = opDefaultEmpty
		e.arg1, _, err = p.word(e.start, "}")
		return err
	case '+', '?':
		p.pos++
		return p.unsupported(e.start, e.name, fmt.Sprintf("the ${var:%cword} form is not supported", c))
	}
	e.op = opSubstring
	var term byte
	if e.arg1, term, err = p.word(e.start, ":}"); err != nil {
		return err
	}
	if len(e.arg1) == 0 {
		return p.errorAt(e.start, ErrSyntax, e.name, "missing substring offset")
	}
	if term == ':' {
		e.hasArg2 = true
		e.arg2, _, err = p.word(e.start, "}")
	}
	return err
}

// word reads literals and nested expressions up to one of the terminator
// bytes at brace depth zero, consuming the terminator, which it returns.
// A backslash quotes the next character; $${ is a literal ${; braces that
// open and close inside the word are part of it, as in bash.
func (p *parser) word(start int, terms string) (word, byte, error) {
	var w word
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			w = append(w, literal{text: text.String()})
			text.Reset()
		}
	}
	depth := 0
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src):
			flush()
			_, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
			w = append(w, literal{text: p.src[p.pos+1 : p.pos+1+size], quoted: true})
			p.pos += 1 + size
		case strings.HasPrefix(p.src[p.pos:], "$${"):
			flush()
			w = append(w, literal{text: "${", quoted: true})
			p.pos += 3
		case strings.HasPrefix(p.src[p.pos:], "${"):
			flush()
			nested, err := p.expr()
			if err != nil {
				return nil, 0, err
			}
			w = append(w, nested)
		case c == '{':
			depth++
			text.WriteByte(c)
			p.pos++
		case c == '}' && depth > 0:
			depth--
			text.WriteByte(c)
			p.pos++
		case depth == 0 && strings.IndexByte(terms, c) >= 0:
			flush()
			p.pos++
			return w, c, nil
		default:
			text.WriteByte(c)
			p.pos++
		}
	}
	return nil, 0, p.errorAt(start, ErrSyntax, "", "unterminated expression, missing '}'")
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
