package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	yaml "go.yaml.in/yaml/v3"
)

// merge deep-merges the YAML document data into the output file dst, as
// Helm merges --values files: mappings merge key by key, everything else
// (arrays included) is replaced. A missing destination takes data as is.
func (w *writer) merge(c opContext, srcName, dst string, data []byte, mode fs.FileMode) error {
	src, err := oneDocument(data)
	if err != nil {
		return c.failed(srcName, err, "Merge needs a single YAML mapping as its source")
	}
	name := "@artifact/" + dst
	if dst == "" || isDir(w.root, dst) {
		return c.invalid(name, "Merge needs a file as destination; name the YAML file in to")
	}
	old, err := w.root.ReadFile(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return w.write(c, dst, bytes.NewReader(data), mode)
	}
	if err != nil {
		return c.failed(name, err, "cannot read the destination file")
	}
	base, err := oneDocument(old)
	if err != nil {
		return c.failed(name, err, "Merge destination is not a single YAML mapping; merge into a one-document YAML file")
	}
	out, err := encode(mergeMaps(base, src))
	if err != nil {
		return c.failed(name, err, "cannot encode the merged YAML")
	}
	return w.write(c, dst, bytes.NewReader(out), mode)
}

// encode writes v as YAML with the two-space indent Kubernetes files use.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// oneDocument decodes data as exactly one YAML mapping (empty means {}).
func oneDocument(data []byte) (map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not YAML: %w", err)
		}
		docs = append(docs, v)
	}
	switch {
	case len(docs) > 1:
		return nil, fmt.Errorf("holds %d YAML documents, Merge takes one", len(docs))
	case len(docs) == 0 || docs[0] == nil:
		return map[string]any{}, nil
	}
	m, ok := docs[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top level is a %T, not a mapping with string keys", docs[0])
	}
	return m, nil
}

// mergeMaps merges src into dst recursively and returns dst.
func mergeMaps(dst, src map[string]any) map[string]any {
	for k, v := range src {
		sm, sok := v.(map[string]any)
		dm, dok := dst[k].(map[string]any)
		if sok && dok {
			dst[k] = mergeMaps(dm, sm)
			continue
		}
		dst[k] = v
	}
	return dst
}
