package sops

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const plainSecret = `# encrypted by the demo
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: podinfo
type: Opaque
stringData:
  # the application user
  username: podinfo
  password: s3cr3t-Passw0rd # rotate me
  port: "5432"
  empty: ""
data:
  token: dG9rZW4=
`

func newAgeKeys(t *testing.T) (*age.X25519Identity, *Keys) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	k, err := KeysFromSecret(map[string][]byte{"age.agekey": []byte(id.String() + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	return id, k
}

// sameObjects compares two YAML streams as decoded objects: comments and
// layout aside, the decrypted document must be the plaintext.
func sameObjects(t *testing.T, got, want []byte) {
	t.Helper()
	g, w := decodeStream(t, got), decodeStream(t, want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("decrypted objects differ:\ngot  %v\nwant %v", g, w)
	}
}

func decodeStream(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("decoding %q: %v", doc, err)
		}
		out = append(out, m)
	}
	return out
}

func TestEncryptYAMLRoundTrip(t *testing.T) {
	id, keys := newAgeKeys(t)
	enc, err := EncryptYAML([]byte(plainSecret), []string{id.Recipient().String()}, k8sRegex)
	if err != nil {
		t.Fatal(err)
	}
	text := string(enc)
	for _, leaked := range []string{"s3cr3t-Passw0rd", "dG9rZW4=", "rotate me", "the application user"} {
		if strings.Contains(text, leaked) {
			t.Errorf("encrypted document shows %q:\n%s", leaked, text)
		}
	}
	for _, shown := range []string{"name: db-credentials", "# encrypted by the demo", "encrypted_regex: ^(data|stringData)$",
		"recipient: " + id.Recipient().String(), "-----BEGIN AGE ENCRYPTED FILE-----", "version: " + formatVersion,
		"empty: \"\"", "type:comment]"} {
		if !strings.Contains(text, shown) {
			t.Errorf("encrypted document lacks %q:\n%s", shown, text)
		}
	}
	if !encryptedAs(enc, YAML) {
		t.Fatalf("the output is not recognised as a SOPS YAML document:\n%s", text)
	}

	out, changed, err := keys.DecryptData("secret.yaml", enc, YAML)
	if err != nil || !changed {
		t.Fatalf("DecryptData: changed=%v err=%v", changed, err)
	}
	sameObjects(t, out, []byte(plainSecret))
	if !strings.Contains(string(out), "the application user") || !strings.Contains(string(out), "rotate me") {
		t.Errorf("comments not restored:\n%s", out)
	}

	obj := objectFromYAML(t, enc)
	if !IsEncrypted(obj) {
		t.Fatal("IsEncrypted is false for the encrypted object")
	}
	if err := keys.DecryptObject(obj); err != nil {
		t.Fatalf("DecryptObject: %v", err)
	}
	want := objectFromYAML(t, []byte(plainSecret))
	if !reflect.DeepEqual(obj.Object, want.Object) {
		t.Errorf("DecryptObject gave %v, want %v", obj.Object, want.Object)
	}
}

func TestEncryptYAMLEveryRecipientDecrypts(t *testing.T) {
	a, keysA := newAgeKeys(t)
	b, keysB := newAgeKeys(t)
	_, other := newAgeKeys(t)
	enc, err := EncryptYAML([]byte(plainSecret), []string{a.Recipient().String(), " " + b.Recipient().String() + "\n"}, k8sRegex)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*Keys{"first": keysA, "second": keysB} {
		out, _, err := k.DecryptData("s.yaml", enc, YAML)
		if err != nil {
			t.Fatalf("%s recipient: %v", name, err)
		}
		sameObjects(t, out, []byte(plainSecret))
	}
	_, _, err = other.DecryptData("s.yaml", enc, YAML)
	wantErr(t, err, ErrNoMatchingKey)
}

func TestEncryptYAMLDefaultRuleAndTypes(t *testing.T) {
	id, keys := newAgeKeys(t)
	plain := "name: app\nreplicas: 3\nratio: 0.25\nenabled: true\nnothing:\nlist:\n  - one\n  - 2\nnested:\n  deep: value\nhost_unencrypted: example.com\n"
	enc, err := EncryptYAML([]byte(plain), []string{id.Recipient().String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	text := string(enc)
	for _, typ := range []string{"type:str]", "type:int]", "type:float]", "type:bool]"} {
		if !strings.Contains(text, typ) {
			t.Errorf("no %s value in:\n%s", typ, text)
		}
	}
	if !strings.Contains(text, "host_unencrypted: example.com") || !strings.Contains(text, "unencrypted_suffix: _unencrypted") {
		t.Errorf("the default rule was not applied:\n%s", text)
	}
	out, _, err := keys.DecryptData("c.yaml", enc, YAML)
	if err != nil {
		t.Fatal(err)
	}
	sameObjects(t, out, []byte(plain))
}

func TestEncryptYAMLStream(t *testing.T) {
	id, keys := newAgeKeys(t)
	stream := plainSecret + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: second\nstringData:\n  key: value\n"
	enc, err := EncryptYAML([]byte(stream), []string{id.Recipient().String()}, k8sRegex)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(enc), "\nsops:\n"); n != 2 {
		t.Errorf("sops metadata written %d times, want once per document", n)
	}
	out, _, err := keys.DecryptData("s.yaml", enc, YAML)
	if err != nil {
		t.Fatal(err)
	}
	sameObjects(t, out, []byte(stream))
}

func TestEncryptYAMLTampered(t *testing.T) {
	id, keys := newAgeKeys(t)
	enc, err := EncryptYAML([]byte(plainSecret), []string{id.Recipient().String()}, k8sRegex)
	if err != nil {
		t.Fatal(err)
	}
	text := string(enc)
	encOf := func(key string) string {
		for _, line := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+": "); ok {
				return strings.Fields(v)[0]
			}
		}
		t.Fatalf("no %s in\n%s", key, text)
		return ""
	}
	user, pass := encOf("username"), encOf("password")
	swapped := strings.NewReplacer(user, pass, pass, user).Replace(text)

	tests := []struct {
		name string
		doc  string
		msg  string
	}{
		{"plain value changed", strings.Replace(text, "name: db-credentials", "name: db-credentialz", 1), "MAC mismatch"},
		{"value added", strings.Replace(text, "type: Opaque", "type: Opaque\nimmutable: true", 1), "MAC mismatch"},
		{"values swapped", swapped, "does not authenticate"},
		{"lastmodified changed", strings.Replace(text, "lastmodified: \"", "lastmodified: \"1", 1), "lastmodified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.doc == text {
				t.Fatal("the document was not changed")
			}
			_, _, err := keys.DecryptData("s.yaml", []byte(tc.doc), YAML)
			if tc.name == "lastmodified changed" {
				// "2026-..." becomes "12026-...": still a time, but not the
				// one the MAC is bound to.
				wantErr(t, err, nil, tc.msg)
				return
			}
			wantErr(t, err, ErrIntegrity, tc.msg)
			noSecrets(t, err.Error(), "s3cr3t-Passw0rd")
		})
	}
}

func TestEncryptYAMLErrors(t *testing.T) {
	id, _ := newAgeKeys(t)
	rec := []string{id.Recipient().String()}
	enc, err := EncryptYAML([]byte(plainSecret), rec, k8sRegex)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		plain string
		recs  []string
		re    string
		msg   string
	}{
		{"no recipient", plainSecret, nil, k8sRegex, "no age recipient"},
		{"bad recipient", plainSecret, []string{"age1notakey"}, k8sRegex, "age recipient"},
		{"bad regex", plainSecret, rec, "^(data", "not a valid regular expression"},
		{"already encrypted", string(enc), rec, k8sRegex, "already has a sops key"},
		{"not YAML", "a: [", rec, k8sRegex, "not valid YAML"},
		{"empty", "", rec, k8sRegex, "empty"},
		{"top-level list", "- a\n- b\n", rec, k8sRegex, "sequence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncryptYAML([]byte(tc.plain), tc.recs, tc.re)
			wantErr(t, err, nil, tc.msg)
		})
	}
}

// TestEncryptYAMLReadBySops decrypts EncryptYAML's output with the real sops
// binary (SOPS_BINARY, or built from its module by sopsBinary).
func TestEncryptYAMLReadBySops(t *testing.T) {
	bin := sopsBinary(t)
	id, _ := newAgeKeys(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, re := range map[string]string{"regex": k8sRegex, "default": ""} {
		t.Run(name, func(t *testing.T) {
			enc, err := EncryptYAML([]byte(plainSecret), []string{id.Recipient().String()}, re)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(file, enc, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "--decrypt", file)
			cmd.Env = append(os.Environ(), "SOPS_AGE_KEY_FILE="+keyFile)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sops --decrypt: %v\n%s\n%s", err, stderr.String(), enc)
			}
			sameObjects(t, out, []byte(plainSecret))
		})
	}
}

// objectFromEncrypted is used by the demo-style flow: an object decoded from
// the encrypted file keeps its plain fields readable.
func TestEncryptYAMLObjectKeepsPlainFields(t *testing.T) {
	id, _ := newAgeKeys(t)
	enc, err := EncryptYAML([]byte(plainSecret), []string{id.Recipient().String()}, k8sRegex)
	if err != nil {
		t.Fatal(err)
	}
	obj := objectFromYAML(t, enc)
	if obj.GetName() != "db-credentials" || obj.GetNamespace() != "podinfo" {
		t.Errorf("metadata not kept in clear: %v", obj.Object["metadata"])
	}
	pw, _, _ := unstructured.NestedString(obj.Object, "stringData", "password")
	if !isEncValue(pw) {
		t.Errorf("stringData.password is not encrypted: %q", pw)
	}
}
