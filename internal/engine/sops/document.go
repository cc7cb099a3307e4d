package sops

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Format is a SOPS store: how a document is laid out on disk.
type Format int

const (
	// Binary is any other file, stored by SOPS as a JSON object whose "data"
	// holds the whole file.
	Binary Format = iota
	// YAML documents (.yaml, .yml), possibly several in a stream.
	YAML
	// JSON objects (.json).
	JSON
	// Dotenv files of KEY=value lines (.env).
	Dotenv
	// INI files (.ini).
	INI
)

// String names the format.
func (f Format) String() string {
	switch f {
	case YAML:
		return "YAML"
	case JSON:
		return "JSON"
	case Dotenv:
		return "dotenv"
	case INI:
		return "INI"
	}
	return "binary"
}

// FormatForName picks the format of a file from its name, as sops does;
// a .dockerconfigjson Secret key is JSON, as Flux treats it.
func FormatForName(name string) Format {
	switch {
	case strings.HasSuffix(name, ".yaml"), strings.HasSuffix(name, ".yml"):
		return YAML
	case strings.HasSuffix(name, ".json"), strings.HasSuffix(name, ".dockerconfigjson"):
		return JSON
	case strings.HasSuffix(name, ".env"):
		return Dotenv
	case strings.HasSuffix(name, ".ini"):
		return INI
	}
	return Binary
}

// markers find the MAC of an encrypted document of each format: a file that
// has none is not SOPS-encrypted and is left as it is.
var markers = []struct {
	format Format
	re     *regexp.Regexp
}{
	{JSON, regexp.MustCompile(`"mac"\s*:\s*"ENC\[AES256_GCM,`)},
	{Dotenv, regexp.MustCompile(`(?m)^sops_mac=ENC\[AES256_GCM,`)},
	{YAML, regexp.MustCompile(`(?m)^\s*mac:\s*["']?ENC\[AES256_GCM,`)},
	{INI, regexp.MustCompile(`(?m)^\s*mac\s*=\s*ENC\[AES256_GCM,`)},
}

// encryptedAs reports whether data looks like a SOPS document of format f.
func encryptedAs(data []byte, f Format) bool {
	if f == Binary {
		f = JSON
	}
	for _, m := range markers {
		if m.format == f {
			return m.re.Match(data) && (f != INI || strings.Contains(string(data), "[sops]"))
		}
	}
	return false
}

// detectFormat returns the format of a SOPS document from its content.
func detectFormat(data []byte) (Format, bool) {
	for _, m := range markers {
		if encryptedAs(data, m.format) {
			return m.format, true
		}
	}
	return Binary, false
}

var errNoMetadata = errors.New("no sops metadata found")

// load parses an encrypted document of format f into its trees (metadata
// removed) and its raw metadata.
func load(data []byte, f Format) ([]mapping, map[string]any, error) {
	switch f {
	case Dotenv:
		return loadDotenv(data)
	case INI:
		return loadINI(data)
	}
	var (
		docs []mapping
		err  error
	)
	if f == YAML {
		docs, err = loadYAML(data)
	} else {
		docs, err = loadJSON(data)
	}
	if err != nil {
		return nil, nil, err
	}
	// The sops key is written into every document of a stream; the first
	// one is read.
	var meta map[string]any
	for i, doc := range docs {
		kept := doc[:0]
		for _, e := range doc {
			if e.comment != nil || e.key != "sops" {
				kept = append(kept, e)
				continue
			}
			if i == 0 && meta == nil {
				m, ok := e.value.(mapping)
				if !ok {
					return nil, nil, fmt.Errorf("the sops key is not a mapping")
				}
				meta = plain(m).(map[string]any)
			}
		}
		docs[i] = kept
	}
	if meta == nil {
		return nil, nil, errNoMetadata
	}
	return docs, meta, nil
}

// plain converts a tree value to plain Go maps and slices, comments dropped.
func plain(v any) any {
	switch v := v.(type) {
	case mapping:
		m := make(map[string]any, len(v))
		for _, e := range v {
			if e.comment == nil {
				m[e.key] = plain(e.value)
			}
		}
		return m
	case []any:
		s := make([]any, 0, len(v))
		for _, item := range v {
			if _, ok := item.(comment); !ok {
				s = append(s, plain(item))
			}
		}
		return s
	}
	return v
}

// emit writes documents in format f, in at most limit bytes.
func emit(docs []mapping, f Format, limit int) ([]byte, error) {
	switch f {
	case YAML:
		return emitYAML(docs, limit)
	case JSON:
		return emitJSON(docs, limit)
	case Dotenv:
		return emitDotenv(docs, limit)
	case INI:
		return emitINI(docs, limit)
	}
	return emitBinary(docs, limit)
}

// decryptDocument decrypts a whole SOPS document of format in and writes the
// plaintext as format out, in at most maxOutputSize(len(data)) bytes.
func (k *Keys) decryptDocument(data []byte, in, out Format) ([]byte, error) {
	docs, err := k.decryptTrees(data, in)
	if err != nil {
		return nil, err
	}
	return emit(docs, out, maxOutputSize(len(data)))
}

// decryptTrees decrypts a whole SOPS document of format in, checking its MAC
// as `sops --decrypt` does, and returns its plaintext trees.
func (k *Keys) decryptTrees(data []byte, in Format) ([]mapping, error) {
	if in == Binary {
		in = JSON
	}
	docs, raw, err := load(data, in)
	if err != nil {
		return nil, fmt.Errorf("%w: reading it as %s: %w", ErrInvalidDocument, in, err)
	}
	md, err := parseMetadata(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	key, err := k.dataKey(md)
	if err != nil {
		return nil, err
	}
	stored, err := storedMAC(key, md)
	if err != nil {
		return nil, err
	}
	computed, err := newTreeDecrypter(key, md).decrypt(docs)
	if err != nil {
		return nil, err
	}
	if computed != stored {
		return nil, fmt.Errorf("%w: MAC mismatch: values were added, removed, reordered or changed after the file was encrypted", ErrIntegrity)
	}
	return docs, nil
}

// isBinaryEnvelope reports whether decrypted trees are a binary file's
// envelope: one object whose only member is the "data" string.
func isBinaryEnvelope(docs []mapping) bool {
	if len(docs) != 1 {
		return false
	}
	members := 0
	isData := false
	for _, e := range docs[0] {
		if e.comment == nil {
			members++
			_, isString := e.value.(string)
			isData = e.key == "data" && isString
		}
	}
	return members == 1 && isData
}

// storedMAC decrypts the document's MAC, which is bound to its lastmodified
// time: a MAC that does not decrypt means the metadata was tampered with.
func storedMAC(key []byte, md *metadata) (string, error) {
	if md.mac == "" {
		return "", fmt.Errorf("%w: the document has no MAC", ErrIntegrity)
	}
	v, err := decryptValue(key, md.mac, md.lastModified.Format(time.RFC3339))
	if errors.Is(err, ErrIntegrity) {
		return "", fmt.Errorf("%w: the MAC does not authenticate under the data key (mac or lastmodified was modified)", ErrIntegrity)
	}
	if err != nil {
		return "", fmt.Errorf("mac: %w", err)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: the MAC is a %T, want a string", ErrInvalidDocument, v)
	}
	return s, nil
}
