package sops

import (
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// mapping is an ordered mapping of a document, as SOPS sees it: the order of
// its values feeds the MAC, and comment lines are entries too.
type mapping []entry

// entry is a key and its value, or a comment line (comment != nil). Values
// are string, int, float64, bool, time.Time, nil, mapping, or []any whose
// elements may also be comment.
type entry struct {
	key     string
	comment *comment
	value   any
}

// macOnlyEncryptedInit starts the MAC of documents written with
// mac_only_encrypted, so that such a MAC never equals a full one. The bytes
// are part of the SOPS format.
var macOnlyEncryptedInit = []byte{
	0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
	0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
}

// treeDecrypter decrypts a document tree in place and computes its MAC over
// the plaintext values, in document order.
type treeDecrypter struct {
	key []byte
	md  *metadata
	mac hash.Hash
}

func newTreeDecrypter(key []byte, md *metadata) *treeDecrypter {
	d := &treeDecrypter{key: key, md: md, mac: sha512.New()}
	if md.macOnlyEncrypted {
		d.mac.Write(macOnlyEncryptedInit)
	}
	return d
}

// decrypt decrypts every document of a store and returns the MAC in the form
// SOPS stores it (upper-case hex).
func (d *treeDecrypter) decrypt(docs []mapping) (string, error) {
	for _, doc := range docs {
		if err := d.mapping(doc, nil, nil); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%X", d.mac.Sum(nil)), nil
}

func (d *treeDecrypter) mapping(m mapping, path []string, stack [][]string) error {
	stack = append(stack, nil)
	top := len(stack) - 1
	for i := range m {
		e := &m[i]
		if e.comment != nil {
			stack[top] = append(stack[top], e.comment.text)
			v, err := d.leaf(*e.comment, path, stack)
			if err != nil {
				return err
			}
			c, ok := v.(comment)
			if !ok {
				return d.fail(path, fmt.Errorf("%w: an encrypted comment decrypts to a %T", ErrInvalidDocument, v))
			}
			// A decrypted comment comes back as a full-line comment, even if
			// it was inline: sops --decrypt writes it so.
			e.comment = &c
			continue
		}
		v, err := d.value(e.value, append(path, e.key), stack)
		if err != nil {
			return err
		}
		e.value = v
		stack[top] = nil
	}
	return nil
}

func (d *treeDecrypter) sequence(s []any, path []string, stack [][]string) error {
	stack = append(stack, nil)
	top := len(stack) - 1
	for i, v := range s {
		c, isComment := v.(comment)
		if isComment {
			stack[top] = append(stack[top], c.text)
		}
		out, err := d.value(v, path, stack)
		if err != nil {
			return err
		}
		s[i] = out
		if !isComment {
			stack[top] = nil
		}
	}
	return nil
}

func (d *treeDecrypter) value(v any, path []string, stack [][]string) (any, error) {
	switch v := v.(type) {
	case mapping:
		return v, d.mapping(v, path, stack)
	case []any:
		return v, d.sequence(v, path, stack)
	case nil:
		return nil, nil
	default:
		return d.leaf(v, path, stack)
	}
}

// leaf decrypts one value if the document's rules say it is encrypted, and
// feeds its plaintext to the MAC. Comments that do not decrypt are taken to
// be plain (older SOPS versions left them so) and never enter the MAC.
func (d *treeDecrypter) leaf(v any, path []string, stack [][]string) (any, error) {
	_, isComment := v.(comment)
	encrypted := d.md.rules.encrypted(path, stack, isComment)
	out := v
	if encrypted {
		aad := strings.Join(path, ":") + ":"
		switch x := v.(type) {
		case comment:
			if plain, err := decryptValue(d.key, x.text, aad); err == nil {
				if s, ok := plain.(string); ok {
					plain = comment{text: s}
				}
				out = plain
			}
		case string:
			plain, err := decryptValue(d.key, x, aad)
			if err != nil {
				return nil, d.fail(path, err)
			}
			out = plain
		default:
			return nil, d.fail(path, fmt.Errorf("%w: expected an encrypted string, found a %T", ErrInvalidDocument, v))
		}
	}
	if !d.md.macOnlyEncrypted || encrypted {
		if _, plainComment := out.(comment); !plainComment {
			b, err := macBytes(out)
			if err != nil {
				return nil, d.fail(path, err)
			}
			d.mac.Write(b)
		}
	}
	return out, nil
}

// fail names the key path of the value that failed.
func (d *treeDecrypter) fail(path []string, err error) error {
	if len(path) == 0 {
		return err
	}
	return fmt.Errorf("%s: %w", strings.Join(path, "."), err)
}
