package sops

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"
)

// Flattened metadata: dotenv and INI files cannot nest, so SOPS writes its
// metadata as keys like age__list_0__map_recipient.
const (
	flatMap  = "__map_"
	flatList = "__list_"
	// dotenvMetaPrefix starts the metadata keys of a dotenv file.
	dotenvMetaPrefix = "sops_"
)

// loadDotenv reads KEY=value lines and # comments; "\n" in a value stands for
// a newline. The metadata keys (sops_...) are split off, unflattened.
func loadDotenv(data []byte) ([]mapping, map[string]any, error) {
	var m mapping
	flat := map[string]any{}
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "":
		case line[0] == '#':
			m = append(m, entry{comment: &comment{text: line[1:]}})
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				return nil, nil, fmt.Errorf("line %d is neither KEY=value nor a # comment", i+1)
			}
			value = strings.ReplaceAll(value, `\n`, "\n")
			if meta, isMeta := strings.CutPrefix(key, dotenvMetaPrefix); isMeta {
				flat[meta] = value
				continue
			}
			m = append(m, entry{key: key, value: value})
		}
	}
	if len(flat) == 0 {
		return nil, nil, errNoMetadata
	}
	meta, err := unflatten(flat)
	if err != nil {
		return nil, nil, err
	}
	return []mapping{m}, meta, nil
}

// emitDotenv writes KEY=value lines as SOPS does, in at most limit bytes.
func emitDotenv(docs []mapping, limit int) ([]byte, error) {
	b := newBoundedBuffer(limit)
	for _, doc := range docs {
		for _, e := range doc {
			if e.comment != nil {
				fmt.Fprintf(b, "#%s\n", e.comment.text)
				continue
			}
			switch v := e.value.(type) {
			case mapping, []any:
				return nil, fmt.Errorf("dotenv key %q has a nested value", e.key)
			case string:
				fmt.Fprintf(b, "%s=%s\n", e.key, strings.ReplaceAll(v, "\n", `\n`))
			default:
				fmt.Fprintf(b, "%s=%s\n", e.key, flatString(v))
			}
		}
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// flatString renders a scalar in a flat file as SOPS does.
func flatString(v any) string {
	switch v := v.(type) {
	case float64:
		s := strconv.FormatFloat(v, 'G', -1, 64)
		if !strings.ContainsAny(s, ".E") {
			s = strconv.FormatFloat(v, 'f', 1, 64)
		}
		return s
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.Format(time.RFC3339)
	case nil:
		return "<nil>"
	default:
		return fmt.Sprint(v)
	}
}

// loadINI reads an INI file (with the library SOPS uses, so values parse the
// same): one mapping entry per section, whose keys and comments follow. The
// [sops] section holds the flattened metadata, newlines escaped as "\n".
func loadINI(data []byte) ([]mapping, map[string]any, error) {
	f, err := ini.LoadSources(ini.LoadOptions{AllowNonUniqueSections: true}, data)
	if err != nil {
		return nil, nil, fmt.Errorf("not valid INI: %w", err)
	}
	var (
		m    mapping
		meta map[string]any
	)
	for _, sec := range f.Sections() {
		var body mapping
		if sec.Comment != "" {
			body = append(body, entry{comment: &comment{text: stripINIComment(sec.Comment)}})
		}
		for _, k := range sec.Keys() {
			body = append(body, entry{key: k.Name(), value: k.Value()})
			if k.Comment != "" {
				body = append(body, entry{comment: &comment{text: stripINIComment(k.Comment)}})
			}
		}
		if sec.Name() != "sops" {
			m = append(m, entry{key: sec.Name(), value: body})
			continue
		}
		if meta != nil {
			return nil, nil, fmt.Errorf("more than one [sops] section")
		}
		flat := map[string]any{}
		for _, e := range body {
			if e.comment == nil {
				flat[e.key] = strings.ReplaceAll(e.value.(string), `\n`, "\n")
			}
		}
		if meta, err = unflatten(flat); err != nil {
			return nil, nil, err
		}
	}
	if meta == nil {
		return nil, nil, errNoMetadata
	}
	return []mapping{m}, meta, nil
}

func stripINIComment(c string) string {
	switch {
	case strings.HasPrefix(c, ";"):
		return strings.TrimLeft(c, "; ")
	case strings.HasPrefix(c, "#"):
		return strings.TrimLeft(c, "# ")
	}
	return c
}

// emitINI writes sections as SOPS does, in at most limit bytes.
func emitINI(docs []mapping, limit int) ([]byte, error) {
	// The library writes into a buffer of its own, aligning every key of a
	// section to the longest: check an upper bound of its size first.
	if iniSizeBound(docs) > limit {
		return nil, errOutputTooLarge(limit)
	}
	f := ini.Empty(ini.LoadOptions{AllowNonUniqueSections: true})
	f.DeleteSection(ini.DefaultSection)
	for _, doc := range docs {
		for _, e := range doc {
			if e.comment != nil {
				continue
			}
			body, ok := e.value.(mapping)
			if !ok {
				return nil, fmt.Errorf("INI section %q is not a mapping", e.key)
			}
			sec, err := f.NewSection(e.key)
			if err != nil {
				return nil, fmt.Errorf("INI section %q: %w", e.key, err)
			}
			var last *ini.Key
			for i, kv := range body {
				if kv.comment != nil {
					if i == 0 {
						sec.Comment = iniComment(kv.comment.text)
					} else if last != nil {
						last.Comment = iniComment(kv.comment.text)
					}
					continue
				}
				if last, err = sec.NewKey(kv.key, flatString(kv.value)); err != nil {
					return nil, fmt.Errorf("INI key %q: %w", kv.key, err)
				}
			}
		}
	}
	b := newBoundedBuffer(limit)
	if _, err := f.WriteTo(b); err != nil {
		if b.Err() != nil {
			return nil, b.Err()
		}
		return nil, fmt.Errorf("writing INI: %w", err)
	}
	return b.Bytes(), nil
}

// iniComment drops the empty lines of a comment, which the INI library
// cannot write (it reads the first byte of every line).
func iniComment(text string) string {
	lines := strings.Split(text, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// iniSizeBound is more than emitINI can write for docs: per key the longest
// key of its section (with quotes), the value (with quotes), the comment
// (each line prefixed) and separators.
func iniSizeBound(docs []mapping) int {
	const perLine = 16
	total := 0
	for _, doc := range docs {
		for _, e := range doc {
			body, ok := e.value.(mapping)
			if e.comment != nil || !ok {
				continue
			}
			align, size := 0, len(e.key)+perLine
			for _, kv := range body {
				if kv.comment != nil {
					size += 4*len(kv.comment.text) + perLine
					continue
				}
				align = max(align, len(kv.key))
				size += len(flatString(kv.value)) + perLine
			}
			total += size + len(body)*(align+perLine)
		}
	}
	return total
}

// unflatten rebuilds nested metadata from flattened keys: a__map_b is key b of
// mapping a, a__list_0 element 0 of list a.
func unflatten(flat map[string]any) (map[string]any, error) {
	root := map[string]any{}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := place(root, k, flat[k]); err != nil {
			return nil, fmt.Errorf("sops metadata key %q: %w", k, err)
		}
	}
	out, err := listsFromIndexes(root)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// place stores value at the path encoded in key. Lists are built as maps
// keyed by "__list_<index>" first, then converted by listsFromIndexes.
func place(root map[string]any, key string, value any) error {
	head, rest := nextFlatToken(key)
	path := []string{head}
	for rest != "" {
		sep := flatMap
		if strings.HasPrefix(rest, flatList) {
			sep = flatList
		}
		tok, r := nextFlatToken(rest[len(sep):])
		if sep == flatList {
			if _, err := strconv.Atoi(tok); err != nil {
				return fmt.Errorf("list index %q is not a number", tok)
			}
			tok = flatList + tok
		}
		path, rest = append(path, tok), r
	}
	cur := root
	for _, name := range path[:len(path)-1] {
		next, ok := cur[name].(map[string]any)
		if !ok {
			if _, exists := cur[name]; exists {
				return fmt.Errorf("is both a value and a container")
			}
			next = map[string]any{}
			cur[name] = next
		}
		cur = next
	}
	last := path[len(path)-1]
	if _, exists := cur[last]; exists {
		return fmt.Errorf("is set twice, or is both a value and a container")
	}
	cur[last] = value
	return nil
}

// nextFlatToken splits s at the next __map_ or __list_ separator.
func nextFlatToken(s string) (token, rest string) {
	i := len(s)
	if j := strings.Index(s, flatMap); j >= 0 && j < i {
		i = j
	}
	if j := strings.Index(s, flatList); j >= 0 && j < i {
		i = j
	}
	return s[:i], s[i:]
}

// listsFromIndexes turns the maps whose keys are all list indexes into lists.
func listsFromIndexes(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	isList := len(m) > 0
	for k := range m {
		isList = isList && strings.HasPrefix(k, flatList)
	}
	for k, child := range m {
		c, err := listsFromIndexes(child)
		if err != nil {
			return nil, err
		}
		m[k] = c
	}
	if !isList {
		return m, nil
	}
	list := make([]any, len(m))
	for k, child := range m {
		i, _ := strconv.Atoi(strings.TrimPrefix(k, flatList))
		if i < 0 || i >= len(list) || list[i] != nil {
			return nil, fmt.Errorf("sops metadata has an incomplete list")
		}
		list[i] = child
	}
	return list, nil
}
