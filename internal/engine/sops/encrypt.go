package sops

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strings"
	"time"

	"filippo.io/age"
	agearmor "filippo.io/age/armor"
)

// formatVersion is the SOPS version whose document format EncryptYAML
// writes; sops reads it from the metadata's version field.
const formatVersion = "3.13.3"

// ivSize is the AES-GCM nonce size SOPS uses for every value.
const ivSize = 32

// EncryptYAML encrypts a YAML document (or stream) as `sops --encrypt --age
// R1,R2 --encrypted-regex RE` does: a fresh 256-bit data key, every value the
// rule selects encrypted with AES-256-GCM bound to its key path, the data key
// wrapped with age for each recipient, and the MAC over all values (encrypted
// with the data key, bound to lastmodified). An empty encryptedRegexp uses
// SOPS's default rule: every value except keys ending in _unencrypted. For
// Kubernetes Secrets, Flux recommends ^(data|stringData)$. The output is
// readable by DecryptObject, DecryptFile and sops itself.
func EncryptYAML(plain []byte, ageRecipients []string, encryptedRegexp string) ([]byte, error) {
	if len(ageRecipients) == 0 {
		return nil, errors.New("encrypting: no age recipient given (want an age1... public key)")
	}
	var recipients []age.Recipient
	for _, r := range ageRecipients {
		rec, err := parseAgeRecipient(strings.TrimSpace(r))
		if err != nil {
			return nil, fmt.Errorf("encrypting: age recipient %s: %w", shortID(r), err)
		}
		recipients = append(recipients, rec)
	}
	r := rules{kind: unencryptedSuffix, suffix: defaultUnencryptedSuffix}
	if encryptedRegexp != "" {
		re, err := regexp.Compile(encryptedRegexp)
		if err != nil {
			return nil, fmt.Errorf("encrypting: encrypted_regex is not a valid regular expression: %w", err)
		}
		r = rules{kind: encryptedRegex, suffix: encryptedRegexp, re: re}
	}
	docs, err := loadYAML(plain)
	if err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if len(docs) == 0 {
		return nil, errors.New("encrypting: the YAML document is empty")
	}
	for _, doc := range docs {
		for _, e := range doc {
			if e.comment == nil && e.key == "sops" {
				return nil, errors.New("encrypting: the document already has a sops key (is it encrypted already?)")
			}
		}
	}

	key := make([]byte, dataKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("encrypting: generating the data key: %w", err)
	}
	enc := &treeEncrypter{key: key, rules: r, mac: sha512.New()}
	for _, doc := range docs {
		if err := enc.mapping(doc, nil, nil); err != nil {
			return nil, fmt.Errorf("encrypting: %w", err)
		}
	}
	lastModified := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	mac, err := encryptValue(key, fmt.Sprintf("%X", enc.mac.Sum(nil)), lastModified)
	if err != nil {
		return nil, fmt.Errorf("encrypting the MAC: %w", err)
	}

	var ages []any
	for i, rec := range recipients {
		wrapped, err := wrapAge(key, rec)
		if err != nil {
			return nil, fmt.Errorf("encrypting: wrapping the data key for %s: %w", shortID(ageRecipients[i]), err)
		}
		ages = append(ages, mapping{
			{key: "recipient", value: strings.TrimSpace(ageRecipients[i])},
			{key: "enc", value: wrapped},
		})
	}
	ruleField := "unencrypted_suffix"
	if r.kind == encryptedRegex {
		ruleField = "encrypted_regex"
	}
	stanza := mapping{
		{key: "age", value: ages},
		{key: ruleField, value: r.suffix},
		{key: "lastmodified", value: lastModified},
		{key: "mac", value: mac},
		{key: "version", value: formatVersion},
	}
	// sops writes the same metadata into every document of a stream.
	for i := range docs {
		docs[i] = append(docs[i], entry{key: "sops", value: stanza})
	}
	// A value of one byte becomes an ENC[...] of about a hundred.
	return emitYAML(docs, 64*len(plain)+maxOutputSlack)
}

func parseAgeRecipient(s string) (age.Recipient, error) {
	if strings.HasPrefix(s, "age1pq1") {
		return age.ParseHybridRecipient(s)
	}
	return age.ParseX25519Recipient(s)
}

// wrapAge encrypts the data key to one age recipient, ASCII-armored, as
// sops stores it.
func wrapAge(key []byte, rec age.Recipient) (string, error) {
	var b bytes.Buffer
	aw := agearmor.NewWriter(&b)
	w, err := age.Encrypt(aw, rec)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(key); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return b.String() + "\n", nil
}

// treeEncrypter encrypts a document tree in place and computes its MAC over
// the plaintext values, in document order: the mirror of treeDecrypter.
type treeEncrypter struct {
	key   []byte
	rules rules
	mac   hash.Hash
}

func (e *treeEncrypter) mapping(m mapping, path []string, stack [][]string) error {
	stack = append(stack, nil)
	top := len(stack) - 1
	for i := range m {
		en := &m[i]
		if en.comment != nil {
			stack[top] = append(stack[top], en.comment.text)
			if e.rules.encrypted(path, stack, true) {
				s, err := encryptValue(e.key, *en.comment, strings.Join(path, ":")+":")
				if err != nil {
					return e.fail(path, err)
				}
				en.comment = &comment{text: s, inline: en.comment.inline}
			}
			continue
		}
		v, err := e.value(en.value, append(path, en.key), stack)
		if err != nil {
			return err
		}
		en.value = v
		stack[top] = nil
	}
	return nil
}

func (e *treeEncrypter) sequence(s []any, path []string, stack [][]string) error {
	stack = append(stack, nil)
	top := len(stack) - 1
	for i, v := range s {
		c, isComment := v.(comment)
		if isComment {
			stack[top] = append(stack[top], c.text)
			if e.rules.encrypted(path, stack, true) {
				enc, err := encryptValue(e.key, c, strings.Join(path, ":")+":")
				if err != nil {
					return e.fail(path, err)
				}
				s[i] = comment{text: enc, inline: c.inline}
			}
			continue
		}
		out, err := e.value(v, path, stack)
		if err != nil {
			return err
		}
		s[i] = out
		stack[top] = nil
	}
	return nil
}

func (e *treeEncrypter) value(v any, path []string, stack [][]string) (any, error) {
	switch v := v.(type) {
	case mapping:
		return v, e.mapping(v, path, stack)
	case []any:
		return v, e.sequence(v, path, stack)
	case nil:
		return nil, nil
	}
	b, err := macBytes(v)
	if err != nil {
		return nil, e.fail(path, err)
	}
	encrypted := e.rules.encrypted(path, stack, false)
	// With the default rules every value enters the MAC (mac_only_encrypted
	// is never written).
	e.mac.Write(b)
	if !encrypted {
		return v, nil
	}
	out, err := encryptValue(e.key, v, strings.Join(path, ":")+":")
	if err != nil {
		return nil, e.fail(path, err)
	}
	return out, nil
}

func (e *treeEncrypter) fail(path []string, err error) error {
	if len(path) == 0 {
		return err
	}
	return fmt.Errorf("%s: %w", strings.Join(path, "."), err)
}

// encryptValue encrypts one typed plaintext value bound to the additional
// data aad, in the ENC[AES256_GCM,...] form. Empty strings stay empty, as
// sops leaves them.
func encryptValue(key []byte, v any, aad string) (string, error) {
	var (
		plain []byte
		typ   string
		err   error
	)
	switch x := v.(type) {
	case string:
		if x == "" {
			return "", nil
		}
		plain, typ = []byte(x), "str"
	case comment:
		plain, typ = []byte(x.text), "comment"
	case int, int64:
		typ = "int"
	case float64:
		typ = "float"
	case bool:
		typ = "bool"
	case time.Time:
		typ = "time"
	default:
		return "", fmt.Errorf("a value of type %T cannot be encrypted", v)
	}
	if plain == nil {
		if plain, err = macBytes(v); err != nil {
			return "", err
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, ivSize)
	if err != nil {
		return "", err
	}
	iv := make([]byte, ivSize)
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("generating an IV: %w", err)
	}
	sealed := gcm.Seal(nil, iv, plain, []byte(aad))
	data, tag := sealed[:len(sealed)-gcmTagSize], sealed[len(sealed)-gcmTagSize:]
	return fmt.Sprintf("%sdata:%s,iv:%s,tag:%s,type:%s]", encPrefix,
		base64.StdEncoding.EncodeToString(data), base64.StdEncoding.EncodeToString(iv),
		base64.StdEncoding.EncodeToString(tag), typ), nil
}
