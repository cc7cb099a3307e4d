package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// encPrefix starts every value SOPS encrypted with its data key.
const encPrefix = "ENC[AES256_GCM,"

// gcmTagSize is the size of the AES-GCM authentication tag SOPS writes.
const gcmTagSize = 16

// comment is a comment line of a document: SOPS keeps comments in its tree
// (and encrypts them) so that commented-out secrets do not leak.
type comment struct {
	text   string
	inline bool
}

// encValue is one parsed ENC[AES256_GCM,data:...,iv:...,tag:...,type:...].
type encValue struct {
	data, iv, tag []byte
	typ           string
}

// isEncValue reports whether s looks like a SOPS-encrypted value.
func isEncValue(s string) bool {
	return strings.HasPrefix(s, encPrefix) && strings.HasSuffix(s, "]")
}

// parseEncValue parses an encrypted value. Errors never quote the value.
func parseEncValue(s string) (encValue, error) {
	var v encValue
	if !isEncValue(s) {
		return v, fmt.Errorf("value is not in the SOPS format ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]")
	}
	seen := map[string]bool{}
	for _, field := range strings.Split(s[len(encPrefix):len(s)-1], ",") {
		name, val, ok := strings.Cut(field, ":")
		if !ok || seen[name] {
			return v, fmt.Errorf("malformed encrypted value: bad or repeated field")
		}
		seen[name] = true
		var err error
		switch name {
		case "data":
			v.data, err = base64.StdEncoding.DecodeString(val)
		case "iv":
			v.iv, err = base64.StdEncoding.DecodeString(val)
		case "tag":
			v.tag, err = base64.StdEncoding.DecodeString(val)
		case "type":
			v.typ = val
		default:
			return v, fmt.Errorf("malformed encrypted value: unknown field %q", name)
		}
		if err != nil {
			return v, fmt.Errorf("malformed encrypted value: field %s is not base64: %w", name, err)
		}
	}
	if !seen["data"] || !seen["iv"] || !seen["tag"] || !seen["type"] {
		return v, fmt.Errorf("malformed encrypted value: want data, iv, tag and type fields")
	}
	if len(v.iv) == 0 || len(v.tag) != gcmTagSize {
		return v, fmt.Errorf("malformed encrypted value: iv is empty or tag is not %d bytes", gcmTagSize)
	}
	return v, nil
}

// decryptValue decrypts an encrypted value bound to the additional data aad
// (the value's key path) and returns its typed plaintext: string, int,
// float64, bool, time.Time or comment. SOPS leaves empty strings unencrypted.
func decryptValue(key []byte, s, aad string) (any, error) {
	if s == "" {
		return "", nil
	}
	v, err := parseEncValue(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: data key: %w", ErrInvalidDocument, err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(v.iv))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	sealed := make([]byte, 0, len(v.data)+len(v.tag))
	sealed = append(append(sealed, v.data...), v.tag...)
	plain, err := gcm.Open(nil, v.iv, sealed, []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("%w: the value does not authenticate under the data key (modified, or moved from another key)", ErrIntegrity)
	}
	text := string(plain)
	switch v.typ {
	case "str", "bytes":
		return text, nil
	case "int":
		n, err := strconv.Atoi(text)
		if err != nil {
			return nil, fmt.Errorf("%w: encrypted int is not an integer", ErrInvalidDocument)
		}
		return n, nil
	case "float":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: encrypted float is not a number", ErrInvalidDocument)
		}
		return f, nil
	case "bool":
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("%w: encrypted bool is not a boolean", ErrInvalidDocument)
		}
		return b, nil
	case "time":
		var t time.Time
		if err := t.UnmarshalText(plain); err != nil {
			return nil, fmt.Errorf("%w: encrypted time is not RFC 3339", ErrInvalidDocument)
		}
		return t, nil
	case "comment":
		return comment{text: text}, nil
	default:
		return nil, fmt.Errorf("%w: unknown encrypted value type %q", ErrInvalidDocument, v.typ)
	}
}

// macBytes is the representation of a plaintext value that SOPS feeds to its
// MAC: strings as they are, numbers in their shortest decimal form, booleans
// as "True" or "False" (a legacy of the Python implementation).
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case int64:
		return []byte(strconv.FormatInt(v, 10)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case time.Time:
		return v.MarshalText()
	default:
		return nil, fmt.Errorf("%w: value of type %T cannot be authenticated", ErrInvalidDocument, v)
	}
}
