package sops

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DecryptAnnotation opts an object out of decryption when set to Disabled.
const DecryptAnnotation = "kustomize.toolkit.fluxcd.io/decrypt"

// DecryptObject decrypts in place an object of a kustomize build that carries
// a SOPS metadata stanza (a top-level sops mapping with a mac), and removes the
// stanza. Objects without one are left as they are, except Secrets whose data
// values are whole SOPS-encrypted files (a secretGenerator fed an encrypted
// file): those values are decrypted, in the format their key names. The
// annotation kustomize.toolkit.fluxcd.io/decrypt: Disabled leaves an object
// untouched.
//
// With no keys configured (k == nil) an encrypted object is an error wrapping
// ErrNotConfigured: applying the ciphertext is never what was meant. Errors
// name the object as Kind/namespace/name.
func (k *Keys) DecryptObject(obj *unstructured.Unstructured) error {
	if obj == nil || decryptDisabled(obj) {
		return nil
	}
	if stanza, ok := sopsStanza(obj); ok {
		if k == nil {
			return fmt.Errorf("%s is SOPS-encrypted: %w (set spec.decryption with provider sops and a secretRef to a Secret holding the age or OpenPGP key, or annotate the object %s: Disabled)",
				objectName(obj), ErrNotConfigured, DecryptAnnotation)
		}
		if err := k.decryptStanza(obj, stanza); err != nil {
			return fmt.Errorf("%s: %w", objectName(obj), err)
		}
		return nil
	}
	if k != nil && obj.GetKind() == "Secret" && obj.GetAPIVersion() == "v1" {
		return k.decryptSecretData(obj)
	}
	return nil
}

func decryptDisabled(obj *unstructured.Unstructured) bool {
	return strings.EqualFold(obj.GetAnnotations()[DecryptAnnotation], "disabled")
}

// sopsStanza returns the object's SOPS metadata if it has any: a top-level
// sops mapping with a non-empty mac, as Flux detects it.
func sopsStanza(obj *unstructured.Unstructured) (map[string]any, bool) {
	m, ok := obj.Object["sops"].(map[string]any)
	if !ok {
		return nil, false
	}
	mac, _ := m["mac"].(string)
	return m, mac != ""
}

// objectName names an object the way people find it: Kind/namespace/name.
func objectName(obj *unstructured.Unstructured) string {
	kind := obj.GetKind()
	if kind == "" {
		kind = "object"
	}
	if ns := obj.GetNamespace(); ns != "" {
		return kind + "/" + ns + "/" + obj.GetName()
	}
	return kind + "/" + obj.GetName()
}

// decryptStanza decrypts an object encrypted as a whole. The MAC must
// authenticate, but is not recomputed: kustomize has reordered fields and may
// have injected labels, a namespace or a name prefix, so it would not match
// (Flux skips the check too). Every encrypted value still authenticates on
// its own, bound to its key path.
func (k *Keys) decryptStanza(obj *unstructured.Unstructured, stanza map[string]any) error {
	md, err := parseMetadata(stanza)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	key, err := k.dataKey(md)
	if err != nil {
		return err
	}
	if _, err := storedMAC(key, md); err != nil {
		return err
	}
	// Decrypt a copy, so that a failure leaves the object as it was.
	w := objectDecrypter{key: key, rules: md.rules}
	decrypted := obj.DeepCopy().Object
	delete(decrypted, "sops")
	for name, v := range decrypted {
		out, err := w.value(v, scope{}.child(w.rules, name, false))
		if err != nil {
			return err
		}
		decrypted[name] = out
	}
	obj.Object = decrypted
	return nil
}

// objectDecrypter decrypts the values of a decoded object. Key order and
// comments are gone, so it needs neither: it decrypts every value in an
// encrypted path, and refuses a plain one there as sops does, except the
// empty string (sops leaves it) and what a kustomize build sets on any object
// (see setByBuild). With comment rules, which comments decided is unknown: an
// encrypted-looking value is decrypted, any other one kept.
type objectDecrypter struct {
	key   []byte
	rules rules
}

func (w objectDecrypter) value(v any, sc scope) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for name, x := range v {
			out, err := w.value(x, sc.child(w.rules, name, false))
			if err != nil {
				return nil, err
			}
			v[name] = out
		}
		return v, nil
	case []any:
		kept := v[:0]
		for _, x := range v {
			if s, ok := x.(string); ok && isEncValue(s) {
				// sops writes the comments of a list as encrypted items.
				out, err := w.decrypt(s, sc)
				if err != nil {
					return nil, err
				}
				if _, isComment := out.(comment); !isComment {
					kept = append(kept, objectValue(out))
				}
				continue
			}
			out, err := w.value(x, sc)
			if err != nil {
				return nil, err
			}
			kept = append(kept, out)
		}
		return kept, nil
	case nil:
		return nil, nil
	case string:
		if !isEncValue(v) {
			return v, w.plain(v, sc)
		}
		out, err := w.decrypt(v, sc)
		if err != nil {
			return nil, err
		}
		if _, isComment := out.(comment); isComment {
			// Comments are gone from a decoded object, and sops never
			// writes one as a mapping's value.
			return nil, errCommentAsValue(sc.path)
		}
		return objectValue(out), nil
	}
	return v, w.plain(v, sc)
}

// encrypted reports whether the rules say a value in scope is encrypted;
// with comment rules, any may be.
func (w objectDecrypter) encrypted(sc scope) bool {
	return w.rules.usesComments() || w.rules.decide(sc.keyMatched, false)
}

// decrypt decrypts an encrypted-looking value, unless the rules say it is
// not encrypted (then it is returned as it is).
func (w objectDecrypter) decrypt(v string, sc scope) (any, error) {
	if !w.encrypted(sc) {
		return v, nil
	}
	out, err := decryptValue(w.key, v, strings.Join(sc.path, ":")+":")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath(sc.path), err)
	}
	return out, nil
}

// plain checks a value that is not encrypted: it is refused where the rules
// say sops encrypted the value.
func (w objectDecrypter) plain(v any, sc scope) error {
	if v == "" || w.rules.usesComments() || setByBuild(sc.path) || !w.encrypted(sc) {
		return nil
	}
	return errNotEncrypted(sc.path)
}

// setByBuild reports whether a kustomize build may have set the value at
// path on any object, in plain text, after sops encrypted it: the namespace
// (namespace:), labels (labels:, commonLabels:) and annotations
// (commonAnnotations:). Only matters with rules that encrypt metadata, such
// as sops's default of encrypting everything. The cost: such a value is not
// authenticated, which it never is after a build anyway (the MAC is not
// checked for objects), and none of them holds a secret.
func setByBuild(path []string) bool {
	if len(path) < 2 || path[0] != "metadata" {
		return false
	}
	switch path[1] {
	case "namespace":
		return len(path) == 2
	case "labels", "annotations":
		return len(path) == 3
	}
	return false
}

// objectValue converts a decrypted value to what unstructured objects hold.
func objectValue(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return v
}

// decryptSecretData decrypts the data values of a Secret that are whole
// SOPS-encrypted files, writing each in the format its key names (a binary
// key gets the file content back).
func (k *Keys) decryptSecretData(obj *unstructured.Unstructured) error {
	data, ok := obj.Object["data"].(map[string]any)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	slices.Sort(names)
	decrypted := map[string]string{}
	for _, name := range names {
		s, ok := data[name].(string)
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			continue // not base64: the apply reports it
		}
		in, found := detectFormat(raw)
		if !found {
			continue
		}
		if len(raw) > MaxFileSize {
			return fmt.Errorf("%s: data key %q holds a SOPS-encrypted %s file of %d bytes, more than the %d allowed", objectName(obj), name, in, len(raw), MaxFileSize)
		}
		docs, err := k.decryptTrees(raw, in)
		if err != nil {
			return fmt.Errorf("%s: data key %q holds a SOPS-encrypted %s file: %w", objectName(obj), name, in, err)
		}
		out := FormatForName(name)
		if out == Binary && !isBinaryEnvelope(docs) {
			out = in // a structured file under a key without an extension
		}
		plain, err := emit(docs, out, maxOutputSize(len(raw)))
		if err != nil {
			return fmt.Errorf("%s: data key %q: writing the decrypted %s: %w", objectName(obj), name, out, err)
		}
		decrypted[name] = base64.StdEncoding.EncodeToString(plain)
	}
	for name, v := range decrypted {
		data[name] = v
	}
	return nil
}

// IsEncrypted reports whether an object carries SOPS metadata and is not
// opted out of decryption.
func IsEncrypted(obj *unstructured.Unstructured) bool {
	if obj == nil || decryptDisabled(obj) {
		return false
	}
	_, ok := sopsStanza(obj)
	return ok
}
