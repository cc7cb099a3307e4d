package sops

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fixtureDataKey recovers the data key of an encrypted fixture, to forge
// values as anyone who holds the key (or, for comments, moves a ciphertext)
// could.
func fixtureDataKey(t *testing.T, fixture string, f Format) []byte {
	t.Helper()
	_, raw, err := load(readTestdata(t, "encrypted", fixture), f)
	if err != nil {
		t.Fatal(err)
	}
	md, err := parseMetadata(raw)
	if err != nil {
		t.Fatal(err)
	}
	key, err := testKeys(t, "age.agekey").dataKey(md)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// forge encrypts v under key, bound to the key path as sops binds it.
func forge(t *testing.T, key []byte, v any, path ...string) string {
	t.Helper()
	s, err := encryptValue(key, v, strings.Join(path, ":")+":")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replaceOnce replaces old, which must occur, in a fixture.
func replaceOnce(t *testing.T, fixture, old, new string) []byte {
	t.Helper()
	b := string(readTestdata(t, "encrypted", fixture))
	if !strings.Contains(b, old) {
		t.Fatalf("%s has no %q", fixture, old)
	}
	return []byte(strings.Replace(b, old, new, 1))
}

// lineValue returns the value after prefix on the first line having it.
func lineValue(t *testing.T, fixture, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(string(readTestdata(t, "encrypted", fixture)), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s has no line starting with %q", fixture, prefix)
	return ""
}

// TestDecryptFileCommentAsValue puts an encrypted comment where a value
// belongs, in every store: refused, naming the key path.
func TestDecryptFileCommentAsValue(t *testing.T) {
	note := comment{text: " a note"}
	yamlKey := fixtureDataKey(t, "secret-data.yaml", YAML)
	jsonKey := fixtureDataKey(t, "config.json", JSON)
	envKey := fixtureDataKey(t, "app.env", Dotenv)
	iniKey := fixtureDataKey(t, "settings.ini", INI)
	// The comment above stringData.token shares the additional data of the
	// stringData value itself: moved there, it authenticates without the key.
	moved := lineValue(t, "secret-stringdata.yaml", "#")
	stringData := "stringData:\n    #" + moved + "\n"
	tests := []struct {
		name string
		f    Format
		doc  func(t *testing.T) []byte
		path string
	}{
		{"YAML value", YAML, func(t *testing.T) []byte {
			pw := lineValue(t, "secret-data.yaml", "password: ")
			return replaceOnce(t, "secret-data.yaml", pw, forge(t, yamlKey, note, "data", "password"))
		}, "data.password"},
		{"YAML type field changed", YAML, func(t *testing.T) []byte {
			// The type is not authenticated: no key needed.
			pw := lineValue(t, "secret-data.yaml", "password: ")
			return replaceOnce(t, "secret-data.yaml", pw, strings.Replace(pw, ",type:str]", ",type:comment]", 1))
		}, "data.password"},
		{"YAML comment moved to its mapping's place", YAML, func(t *testing.T) []byte {
			b := string(readTestdata(t, "encrypted", "secret-stringdata.yaml"))
			i := strings.Index(b, stringData)
			j := strings.Index(b, "sops:\n")
			if i < 0 || j < i {
				t.Fatal("unexpected fixture layout")
			}
			return []byte(b[:i] + "stringData: " + moved + "\n" + b[j:])
		}, "stringData"},
		{"JSON value", JSON, func(t *testing.T) []byte {
			pw := lineValue(t, "config.json", `"password": `)
			pw = strings.Trim(pw, `",`)
			return replaceOnce(t, "config.json", pw, forge(t, jsonKey, note, "db", "password"))
		}, "db.password"},
		{"dotenv value", Dotenv, func(t *testing.T) []byte {
			v := lineValue(t, "app.env", "DB_PASSWORD=")
			return replaceOnce(t, "app.env", v, forge(t, envKey, note, "DB_PASSWORD"))
		}, "DB_PASSWORD"},
		{"dotenv empty value", Dotenv, func(t *testing.T) []byte {
			// An empty value feeds nothing to the MAC, as a comment does:
			// only this check notices.
			return replaceOnce(t, "app.env", "EMPTY=\n", "EMPTY="+forge(t, envKey, note, "EMPTY")+"\n")
		}, "EMPTY"},
		{"INI value", INI, func(t *testing.T) []byte {
			v := lineValue(t, "settings.ini", "password = ")
			return replaceOnce(t, "settings.ini", v, forge(t, iniKey, note, "database", "password"))
		}, "database.password"},
	}
	leaks := secretMaterial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := testKeys(t, "age.agekey").DecryptData("doc", tt.doc(t), tt.f)
			wantErr(t, err, ErrInvalidDocument, "value at '"+tt.path+"' is an encrypted comment, not a value")
			if err != nil {
				noSecrets(t, err.Error(), leaks...)
			}
		})
	}
}

// TestDecryptObjectCommentAsValue is TestDecryptFileCommentAsValue for
// objects: the comment must not reach the object (which it would make
// impossible to copy).
func TestDecryptObjectCommentAsValue(t *testing.T) {
	key := fixtureDataKey(t, "secret-data.yaml", YAML)
	note := comment{text: " a note"}
	moved := lineValue(t, "secret-stringdata.yaml", "#")
	tests := []struct {
		name    string
		fixture string
		mutate  func(o *unstructured.Unstructured)
		path    string
	}{
		{"mapping value", "secret-data.yaml", func(o *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(o.Object, forge(t, key, note, "data", "password"), "data", "password")
		}, "data.password"},
		{"type field changed", "secret-data.yaml", func(o *unstructured.Unstructured) {
			pw, _, _ := unstructured.NestedString(o.Object, "data", "password")
			_ = unstructured.SetNestedField(o.Object, strings.Replace(pw, ",type:str]", ",type:comment]", 1), "data", "password")
		}, "data.password"},
		{"comment moved to its mapping's place", "secret-stringdata.yaml", func(o *unstructured.Unstructured) {
			o.Object["stringData"] = moved
		}, "stringData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := encryptedObject(t, tt.fixture)
			tt.mutate(obj)
			before := obj.DeepCopy()
			err := testKeys(t, "age.agekey").DecryptObject(obj)
			wantErr(t, err, ErrInvalidDocument, "value at '"+tt.path+"' is an encrypted comment, not a value")
			if err == nil {
				_ = obj.DeepCopy()
			}
			if err != nil && !equalObjects(obj, before) {
				t.Error("a failed decryption changed the object")
			}
		})
	}
	// In a list, sops writes comments as encrypted items: they are dropped.
	obj := encryptedObject(t, "config.yaml")
	if err := testKeys(t, "age.agekey").DecryptObject(obj); err != nil {
		t.Fatal(err)
	}
	got, _, _ := unstructured.NestedStringSlice(obj.Object, "service", "endpoints")
	if strings.Join(got, " ") != "https://a.example.com https://b.example.com" {
		t.Errorf("service.endpoints = %q", got)
	}
}

func equalObjects(a, b *unstructured.Unstructured) bool {
	x, _ := a.MarshalJSON()
	y, _ := b.MarshalJSON()
	return string(x) == string(y)
}

// TestDecryptFilePlainValue puts plain values where the rules say sops
// encrypted them: refused, naming the key path.
func TestDecryptFilePlainValue(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		f       Format
		old     string
		new     string
		path    string
	}{
		{"YAML string", "secret-stringdata.yaml", YAML, "token: ENC[", "token: attacker-value\n    x: ENC[", "stringData.token"},
		{"YAML under encrypted_suffix", "secret-suffix.yaml", YAML, "token_secret: ENC[", "token_secret: plain\n    x: ENC[", "stringData.token_secret"},
		{"YAML number", "config.yaml", YAML, "replicas: ENC[", "replicas: 3\n    x: ENC[", "service.replicas"},
		{"JSON string", "config.json", JSON, `"html": "ENC[`, `"html": "plain", "x": "ENC[`, "html"},
		{"JSON number", "config.json", JSON, `"replicas": "ENC[`, `"replicas": 3, "x": "ENC[`, "replicas"},
		{"dotenv", "app.env", Dotenv, "DB_USER=ENC[", "DB_USER=plain\nX=ENC[", "DB_USER"},
		{"INI", "settings.ini", INI, "user     = ENC[", "user = plain\nx = ENC[", "database.user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := replaceOnce(t, tt.fixture, tt.old, tt.new)
			_, _, err := testKeys(t, "age.agekey").DecryptData("doc", doc, tt.f)
			wantErr(t, err, ErrIntegrity, "value at '"+tt.path+"' is not encrypted although the sops metadata says it should be")
		})
	}
}

// TestDecryptObjectPlainValue checks objects against the rules of their
// metadata: a plain value where sops encrypts is refused; where sops leaves
// values plain (rules, empty strings, comment rules) or a build sets them,
// it is kept.
func TestDecryptObjectPlainValue(t *testing.T) {
	set := func(v any, path ...string) func(o *unstructured.Unstructured) {
		return func(o *unstructured.Unstructured) {
			if err := unstructured.SetNestedField(o.Object, v, path...); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		fixture string
		mutate  func(o *unstructured.Unstructured)
		path    string // "" when accepted
	}{
		{"encrypted_regex: value replaced", "secret-stringdata.yaml", set("attacker-value", "stringData", "token"), "stringData.token"},
		{"encrypted_regex: value added", "secret-data.yaml", set("cGxhaW4=", "data", "extra"), "data.extra"},
		{"encrypted_regex: whole mapping replaced", "secret-data.yaml", func(o *unstructured.Unstructured) { o.Object["data"] = "cGxhaW4=" }, "data"},
		{"encrypted_regex: list item", "secret-data.yaml", set([]any{"plain"}, "data", "list"), "data.list"},
		{"encrypted_regex: empty string", "secret-stringdata.yaml", set("", "stringData", "token"), ""},
		{"encrypted_regex: outside the regex", "secret-stringdata.yaml", set("plain", "metadata", "name"), ""},
		{"encrypted_regex: null", "secret-stringdata.yaml", set(nil, "stringData", "token"), ""},
		{"default rule: value replaced", "secret-full.yaml", set("attacker-value", "stringData", "token"), "stringData.token"},
		{"default rule: name", "secret-full.yaml", set("prod-api-token", "metadata", "name"), "metadata.name"},
		{"default rule: number", "secret-full.yaml", set(int64(3), "metadata", "generation"), "metadata.generation"},
		{"default rule: boolean", "secret-full.yaml", set(true, "immutable"), "immutable"},
		{"default rule: _unencrypted suffix", "secret-full.yaml", set("plain", "stringData", "note_unencrypted"), ""},
		{"default rule: label set by a build", "secret-full.yaml", set("payments", "metadata", "labels", "app"), ""},
		{"default rule: annotation set by a build", "secret-full.yaml", set("x", "metadata", "annotations", "team"), ""},
		{"default rule: namespace set by a build", "secret-full.yaml", set("payments-prod", "metadata", "namespace"), ""},
		{"default rule: label as a mapping", "secret-full.yaml", set("x", "metadata", "labels", "a", "b"), "metadata.labels.a.b"},
		{"unencrypted_regex: value replaced", "secret-unencrypted-regex.yaml", set("plain", "stringData", "token"), "stringData.token"},
		{"unencrypted_regex: matching key", "secret-unencrypted-regex.yaml", set("plain", "type"), ""},
		{"encrypted_suffix: matching key", "secret-suffix.yaml", set("plain", "stringData", "token_secret"), "stringData.token_secret"},
		{"encrypted_suffix: other key", "secret-suffix.yaml", set("plain", "stringData", "other"), ""},
		{"mac_only_encrypted: value replaced", "secret-mac-only.yaml", set("cGxhaW4=", "data", "password"), "data.password"},
		{"encrypted_comment_regex: comments unknown", "config-comment.yaml", set("plain", "secret"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := encryptedObject(t, tt.fixture)
			tt.mutate(obj)
			before := obj.DeepCopy()
			err := testKeys(t, "age.agekey").DecryptObject(obj)
			if tt.path == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, ErrIntegrity, "value at '"+tt.path+"' is not encrypted although the sops metadata says it should be")
			if !equalObjects(obj, before) {
				t.Error("a failed decryption changed the object")
			}
		})
	}
}
