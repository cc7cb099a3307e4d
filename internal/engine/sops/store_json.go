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
// dropped, indented with tabs (as json.Indent does), with a final newline,
// in at most limit bytes.
func emitJSON(docs []mapping, limit int) ([]byte, error) {
	if len(docs) != 1 {
		return nil, fmt.Errorf("a JSON document holds one object, have %d", len(docs))
	}
	b := newBoundedBuffer(limit)
	if err := writeJSON(b, docs[0], 0); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	if err := b.Err(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeJSON writes v at nesting depth, stopping at the buffer's limit.
func writeJSON(b *boundedBuffer, v any, depth int) error {
	switch v := v.(type) {
	case mapping:
		n := 0
		for _, e := range v {
			if e.comment != nil {
				continue
			}
			jsonItem(b, '{', n, depth+1)
			n++
			k, err := json.Marshal(e.key)
			if err != nil {
				return err
			}
			b.WriteString(string(k))
			b.WriteString(": ")
			if err := writeJSON(b, e.value, depth+1); err != nil {
				return err
			}
		}
		jsonEnd(b, '{', '}', n, depth)
	case []any:
		n := 0
		for _, item := range v {
			if _, ok := item.(comment); ok {
				continue
			}
			jsonItem(b, '[', n, depth+1)
			n++
			if err := writeJSON(b, item, depth+1); err != nil {
				return err
			}
		}
		jsonEnd(b, '[', ']', n, depth)
	default:
		out, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("writing JSON value: %w", err)
		}
		b.WriteString(string(out))
	}
	return b.Err()
}

// jsonItem starts the n-th member of a container on its own line.
func jsonItem(b *boundedBuffer, open byte, n, depth int) {
	if n == 0 {
		_ = b.WriteByte(open)
	} else {
		_ = b.WriteByte(',')
	}
	jsonNewline(b, depth)
}

// jsonEnd closes a container of n members: {} or [] when empty.
func jsonEnd(b *boundedBuffer, open, close byte, n, depth int) {
	if n == 0 {
		_ = b.WriteByte(open)
	} else {
		jsonNewline(b, depth)
	}
	_ = b.WriteByte(close)
}

func jsonNewline(b *boundedBuffer, depth int) {
	_ = b.WriteByte('\n')
	for i := 0; i < depth && b.Err() == nil; i++ {
		_ = b.WriteByte('\t')
	}
}

// emitBinary returns the content of a binary document: SOPS stores a file of
// any other type as a JSON object whose "data" string is the file.
func emitBinary(docs []mapping, limit int) ([]byte, error) {
	if len(docs) == 1 {
		for _, e := range docs[0] {
			if e.comment == nil && e.key == "data" {
				s, ok := e.value.(string)
				if !ok {
					return nil, fmt.Errorf("binary document: \"data\" is a %T, want a string", e.value)
				}
				if len(s) > limit {
					return nil, errOutputTooLarge(limit)
				}
				return []byte(s), nil
			}
		}
	}
	return nil, fmt.Errorf("binary document: no \"data\" string (was the file encrypted as another format?)")
}
