package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONDepth bounds the nesting of a JSON document: a file of brackets
// must not exhaust the stack.
const maxJSONDepth = 10000

// loadJSON reads a JSON object keeping the order of its keys, with numbers as
// int when they are integers and float64 otherwise, as SOPS does.
func loadJSON(data []byte) ([]mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("a SOPS JSON document must be an object")
	}
	m, err := jsonObject(dec, 1)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return []mapping{m}, nil
}

// jsonObject reads the members of an object whose '{' was consumed.
func jsonObject(dec *json.Decoder, depth int) (mapping, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
	}
	m := mapping{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return m, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is not a string")
		}
		v, err := jsonValue(dec, depth)
		if err != nil {
			return nil, err
		}
		m = append(m, entry{key: key, value: v})
	}
}

func jsonValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return jsonObject(dec, depth+1)
		case '[':
			if depth+1 > maxJSONDepth {
				return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
			}
			s := []any{}
			for dec.More() {
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				s = append(s, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, unexpectedEOF(err)
			}
			return s, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i), nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s out of range", t)
		}
		return f, nil
	default:
		return t, nil // string, bool or nil
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// emitJSON writes one document as SOPS does: members in order, comments
// dropped, indented with tabs, with a final newline.
func emitJSON(docs []mapping) ([]byte, error) {
	if len(docs) != 1 {
		return nil, fmt.Errorf("a JSON document holds one object, have %d", len(docs))
	}
	var compact bytes.Buffer
	if err := writeJSON(&compact, docs[0]); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "\t"); err != nil {
		return nil, fmt.Errorf("writing JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case mapping:
		b.WriteByte('{')
		first := true
		for _, e := range v {
			if e.comment != nil {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			k, err := json.Marshal(e.key)
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteString(": ")
			if err := writeJSON(b, e.value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		first := true
		for _, item := range v {
			if _, ok := item.(comment); ok {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			if err := writeJSON(b, item); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		out, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("writing JSON value: %w", err)
		}
		b.Write(out)
	}
	return nil
}

// emitBinary returns the content of a binary document: SOPS stores a file of
// any other type as a JSON object whose "data" string is the file.
func emitBinary(docs []mapping) ([]byte, error) {
	if len(docs) == 1 {
		for _, e := range docs[0] {
			if e.comment == nil && e.key == "data" {
				s, ok := e.value.(string)
				if !ok {
					return nil, fmt.Errorf("binary document: \"data\" is a %T, want a string", e.value)
				}
				return []byte(s), nil
			}
		}
	}
	return nil, fmt.Errorf("binary document: no \"data\" string (was the file encrypted as another format?)")
}
