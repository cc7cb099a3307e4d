package sops

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// testRecipient is the public key of testdata/keys/age.agekey.
func testRecipient(t testing.TB) age.Recipient {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(line, "# public key: "); ok {
			rec, err := age.ParseX25519Recipient(r)
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}
	}
	t.Fatal("testdata/keys/age.agekey has no public key line")
	return nil
}

// seal encrypts a plaintext tree as sops does with its default rule (every
// value), for the recipient of testdata/keys/age.agekey, and writes it on one
// line as flow YAML (yamlSyntax) or JSON: the most compact form a document
// can take, as anyone holding the public key could write it. Comments are
// dropped (they are not in the MAC).
func seal(t testing.TB, doc mapping, yamlSyntax bool) ([]byte, error) {
	t.Helper()
	key := make([]byte, dataKeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	enc := &treeEncrypter{key: key, rules: rules{kind: unencryptedSuffix, suffix: defaultUnencryptedSuffix}, mac: sha512.New()}
	if err := enc.mapping(doc, nil, nil); err != nil {
		return nil, err
	}
	const lastModified = "2026-01-01T00:00:00Z"
	mac, err := encryptValue(key, fmt.Sprintf("%X", enc.mac.Sum(nil)), lastModified)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := wrapAge(key, testRecipient(t))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("{")
	if err := writeCompact(&b, doc, true); err != nil {
		return nil, err
	}
	macKey := `"mac"`
	if yamlSyntax {
		macKey = "\n mac" // the YAML marker wants mac: at the start of a line
	}
	fmt.Fprintf(&b, `"sops": {"age": [{"recipient": %q, "enc": %s}], "lastmodified": %q, "unencrypted_suffix": "_unencrypted", %s: %q}}`,
		"age1", quoteJSON(wrapped), lastModified, macKey, mac)
	return []byte(b.String()), nil
}

// writeCompact writes v as compact JSON; members of a mapping end with a
// comma when inner is set (more members follow).
func writeCompact(b *strings.Builder, v any, inner bool) error {
	switch v := v.(type) {
	case mapping:
		if !inner {
			b.WriteString("{")
		}
		n := 0
		for _, e := range v {
			if e.comment != nil {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteString(quoteJSON(e.key) + ": ")
			if err := writeCompact(b, e.value, false); err != nil {
				return err
			}
		}
		if inner && n > 0 {
			b.WriteString(", ")
		}
		if !inner {
			b.WriteString("}")
		}
	case []any:
		b.WriteString("[")
		n := 0
		for _, item := range v {
			if _, ok := item.(comment); ok {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			if err := writeCompact(b, item, false); err != nil {
				return err
			}
		}
		b.WriteString("]")
	default:
		out, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(out)
	}
	return nil
}

func quoteJSON(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}

// nested is a mapping nested depth levels deep: {a: {a: ... {a: leaf}}}.
func nested(depth int, leaf any) mapping {
	m := mapping{{key: "a", value: leaf}}
	for i := 1; i < depth; i++ {
		m = mapping{{key: "a", value: m}}
	}
	return m
}

// TestDecryptOutputBounded decrypts a valid document whose layout makes its
// plaintext grow with the square of its size: refused past maxOutputSize.
func TestDecryptOutputBounded(t *testing.T) {
	keys := testKeys(t, "age.agekey")
	for _, tt := range []struct {
		f          Format
		yamlSyntax bool
	}{{YAML, true}, {JSON, false}} {
		t.Run(tt.f.String(), func(t *testing.T) {
			shallow, err := seal(t, nested(20, "x"), tt.yamlSyntax)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := keys.DecryptData("shallow", shallow, tt.f)
			if err != nil {
				t.Fatalf("a valid document: %v\n%s", err, shallow)
			}
			if !strings.Contains(string(out), "a") {
				t.Errorf("output %q", out)
			}
			// 3000 levels: some 20 kB in, 9 MB (JSON) or 18 MB (YAML) out.
			deep, err := seal(t, nested(3000, "x"), tt.yamlSyntax)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err = keys.DecryptData("deep", deep, tt.f)
			wantErr(t, err, ErrInvalidDocument, "deep", "would be larger than")
			if len(out) > maxOutputSize(len(deep)) {
				t.Errorf("%d bytes out of %d in", len(out), len(deep))
			}
		})
	}
}

// TestDecryptYAMLAliasedBytes repeats one long encrypted value through
// aliases in a list, whose items share the additional data: refused before
// it is decrypted once per alias.
func TestDecryptYAMLAliasedBytes(t *testing.T) {
	key := fixtureDataKey(t, "secret-data.yaml", YAML)
	long := forge(t, key, strings.Repeat("x", 64<<10), "data", "list")
	var b strings.Builder
	b.WriteString("data:\n    list:\n        - &a " + long + "\n")
	for range 100 { // 100 copies of 85 kB: more than MaxFileSize
		b.WriteString("        - *a\n")
	}
	doc := replaceOnce(t, "secret-data.yaml", "data:\n", b.String())
	_, _, err := testKeys(t, "age.agekey").DecryptData("doc.yaml", doc, YAML)
	wantErr(t, err, ErrInvalidDocument, fmt.Sprintf("aliases expand to more than %d bytes", maxAliasedBytes))
}

// TestEmitINIBounded writes a section whose keys are all aligned to one long
// key: refused from an upper bound of the size, before the library builds it.
func TestEmitINIBounded(t *testing.T) {
	var body mapping
	body = append(body, entry{key: strings.Repeat("k", 50_000), value: "v"})
	for i := range 1000 {
		body = append(body, entry{key: fmt.Sprintf("k%d", i), value: "v"})
	}
	docs := []mapping{{{key: "section", value: body}}}
	input := 150_000 // about what the encrypted file takes
	_, err := emitINI(docs, maxOutputSize(input))
	wantErr(t, err, ErrInvalidDocument, "would be larger than")

	// The bound holds for what the library writes.
	out, err := emitINI(docs, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if b := iniSizeBound(docs); len(out) > b {
		t.Errorf("wrote %d bytes, bound %d", len(out), b)
	}
}

// TestEmitINICommentLines writes comments with empty lines, which the INI
// library cannot write (it panics on them).
func TestEmitINICommentLines(t *testing.T) {
	docs := []mapping{{{key: "s", value: mapping{
		{comment: &comment{text: "first\n\nsecond\n"}},
		{key: "k", value: "v"},
		{comment: &comment{text: "\n"}},
		{key: "l", value: "w"},
		{comment: &comment{text: "a\n\nb"}},
	}}}}
	out, err := emitINI(docs, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := "; first\n; second\n[s]\nk = v\n; a\n; b\nl = w\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestDecryptRuleMatchingLinear matches rules against a long key above many
// values: each key is matched once, not once per value below it (which would
// scan the key 20 000 times here, for minutes).
func TestDecryptRuleMatchingLinear(t *testing.T) {
	long := strings.Repeat("k", 1<<20)
	var values strings.Builder
	leaves := map[string]any{}
	for i := range 20_000 {
		fmt.Fprintf(&values, "        v%d: x\n", i)
		leaves[fmt.Sprintf("v%d", i)] = "x"
	}
	// The rule is not authenticated: anyone can make it one that scans
	// whole keys.
	const regex = "^(data|stringData)$|never"
	keys := testKeys(t, "age.agekey")

	t.Run("file", func(t *testing.T) {
		doc := replaceOnce(t, "secret-data.yaml", "encrypted_regex: ^(data|stringData)$", "encrypted_regex: "+regex)
		doc = []byte(strings.Replace(string(doc), "\ndata:\n", "\nspec:\n    ? "+long+"\n    :\n"+values.String()+"data:\n", 1))
		start := time.Now()
		_, _, err := keys.DecryptData("doc.yaml", doc, YAML)
		wantErr(t, err, ErrIntegrity, "MAC mismatch") // spec was added
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("object", func(t *testing.T) {
		obj := encryptedObject(t, "secret-data.yaml")
		setSOPS(obj, "encrypted_regex", regex)
		obj.Object["spec"] = map[string]any{long: leaves}
		start := time.Now()
		if err := keys.DecryptObject(obj); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

func TestRuleRegexBounded(t *testing.T) {
	obj := encryptedObject(t, "secret-data.yaml")
	setSOPS(obj, "encrypted_regex", "^(data|"+strings.Repeat("(x|y)*", 200)+")$")
	err := testKeys(t, "age.agekey").DecryptObject(obj)
	wantErr(t, err, ErrInvalidDocument, "encrypted_regex is longer than 1024 bytes")
}

// TestDecryptSecretDataBounded refuses an encrypted file in a Secret's data
// larger than DecryptFile reads.
func TestDecryptSecretDataBounded(t *testing.T) {
	padding := strings.Repeat("# "+strings.Repeat("x", 1000)+"\n", MaxFileSize/1000)
	big := padding + string(readTestdata(t, "encrypted", "app.env"))
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "generated", "namespace": "payments"},
		"data":     map[string]any{"app.env": base64.StdEncoding.EncodeToString([]byte(big))},
	}}
	err := testKeys(t, "age.agekey").DecryptObject(obj)
	wantErr(t, err, nil, `data key "app.env"`, fmt.Sprintf("more than the %d allowed", MaxFileSize))
}
