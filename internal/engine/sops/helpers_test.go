package sops

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// testKeys builds Keys from files of testdata/keys, each an entry of the
// decryption Secret under its file name.
func testKeys(t *testing.T, files ...string) *Keys {
	t.Helper()
	data := map[string][]byte{}
	for _, f := range files {
		data[f] = readTestdata(t, "keys", f)
	}
	k, err := KeysFromSecret(data)
	if err != nil {
		t.Fatalf("KeysFromSecret(%v): %v", files, err)
	}
	return k
}

func readTestdata(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objectFromYAML decodes a manifest as the build hands it over: Kubernetes
// JSON types (int64, float64), key order gone.
func objectFromYAML(t *testing.T, b []byte) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("decoding manifest: %v", err)
	}
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal(j, &obj.Object); err != nil {
		t.Fatalf("decoding manifest: %v", err)
	}
	return obj
}

func encryptedObject(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	return objectFromYAML(t, firstDocument(readTestdata(t, "encrypted", name)))
}

// firstDocument cuts a YAML stream to its first document: the build hands
// over one object at a time.
func firstDocument(b []byte) []byte {
	return []byte(strings.SplitN(string(b), "\n---\n", 2)[0])
}

// wantErr checks err against a sentinel and fragments of its message.
func wantErr(t *testing.T, err, sentinel error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

// noSecrets fails if a message leaks key material or plaintext.
func noSecrets(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("message leaks %q: %s", s, msg)
		}
	}
}
