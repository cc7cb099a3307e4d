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
		if err := d.mapping(doc, scope{}); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%X", d.mac.Sum(nil)), nil
}

// scope is what the rules need to know of the keys and comments above a
// value, worked out once per key and comment as the walk descends: matching
// them again for every value below would cost the depth (and a long key or
// comment, its length) times the number of values.
type scope struct {
	path           []string
	keyMatched     bool // a key of path matches a suffix or path regex rule
	commentMatched bool // a comment above the value matches a comment rule
}

// child is the scope of the value of key k, below comments that matched
// (commentMatched) in the current frame.
func (sc scope) child(r rules, k string, commentMatched bool) scope {
	return scope{
		path:           append(sc.path, k),
		keyMatched:     sc.keyMatched || r.matchKey(k),
		commentMatched: sc.commentMatched || commentMatched,
	}
}

func (d *treeDecrypter) mapping(m mapping, sc scope) error {
	r := d.md.rules
	frame := false // a comment of this frame, above the next key, matched
	for i := range m {
		e := &m[i]
		if e.comment != nil {
			matched := r.matchComment(e.comment.text)
			encrypted := r.commentEncrypted(sc.keyMatched, sc.commentMatched || frame, matched)
			frame = frame || matched
			v, err := d.leaf(*e.comment, sc.path, encrypted)
			if err != nil {
				return err
			}
			c, ok := v.(comment)
			if !ok {
				return d.fail(sc.path, fmt.Errorf("%w: an encrypted comment decrypts to a %T", ErrInvalidDocument, v))
			}
			// A decrypted comment comes back as a full-line comment, even if
			// it was inline: sops --decrypt writes it so.
			e.comment = &c
			continue
		}
		child := sc.child(r, e.key, frame)
		v, err := d.value(e.value, child)
		if err != nil {
			return err
		}
		if _, isComment := v.(comment); isComment {
			// sops writes the comments of a list as encrypted items, but
			// never a mapping's value.
			return errCommentAsValue(child.path)
		}
		e.value = v
		frame = false
	}
	return nil
}

func (d *treeDecrypter) sequence(s []any, sc scope) error {
	r := d.md.rules
	frame := false
	for i, v := range s {
		c, isComment := v.(comment)
		var (
			out any
			err error
		)
		if isComment {
			matched := r.matchComment(c.text)
			encrypted := r.commentEncrypted(sc.keyMatched, sc.commentMatched || frame, matched)
			frame = frame || matched
			out, err = d.leaf(c, sc.path, encrypted)
		} else {
			item := sc
			item.commentMatched = sc.commentMatched || frame
			out, err = d.value(v, item)
		}
		if err != nil {
			return err
		}
		if _, outComment := out.(comment); isComment && !outComment {
			// An encrypted value moved into a comment of the same list
			// (which shares its additional data) would become an item.
			return d.fail(sc.path, fmt.Errorf("%w: an encrypted comment decrypts to a %T", ErrInvalidDocument, out))
		}
		s[i] = out
		if !isComment {
			frame = false
		}
	}
	return nil
}

func (d *treeDecrypter) value(v any, sc scope) (any, error) {
	switch v := v.(type) {
	case mapping:
		return v, d.mapping(v, sc)
	case []any:
		return v, d.sequence(v, sc)
	case nil:
		return nil, nil
	default:
		return d.leaf(v, sc.path, d.md.rules.decide(sc.keyMatched, sc.commentMatched))
	}
}

// leaf decrypts one value if the document's rules say it is encrypted, and
// feeds its plaintext to the MAC. Comments that do not decrypt are taken to
// be plain (older SOPS versions left them so) and never enter the MAC.
func (d *treeDecrypter) leaf(v any, path []string, encrypted bool) (any, error) {
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
			if x != "" && !isEncValue(x) {
				return nil, errNotEncrypted(path)
			}
			plain, err := decryptValue(d.key, x, aad)
			if err != nil {
				return nil, d.fail(path, err)
			}
			out = plain
		default:
			return nil, errNotEncrypted(path)
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

// keyPath names a value by its key path, as people read it: data.password.
func keyPath(path []string) string {
	return strings.Join(path, ".")
}

// errNotEncrypted reports a plain value where the document's rules say sops
// encrypted one: sops would refuse it too, and accepting it would let anyone
// who can edit the file replace a secret without the key. (Empty strings are
// the exception: sops leaves them as they are.)
func errNotEncrypted(path []string) error {
	return fmt.Errorf("%w: value at '%s' is not encrypted although the sops metadata says it should be", ErrIntegrity, keyPath(path))
}

// errCommentAsValue reports an encrypted comment (type:comment) moved to
// where a value of a mapping belongs: the comments of a mapping share the
// additional data of its values, so it authenticates there. (In a list, sops
// itself writes comments as encrypted items.)
func errCommentAsValue(path []string) error {
	return fmt.Errorf("%w: value at '%s' is an encrypted comment, not a value", ErrInvalidDocument, keyPath(path))
}
