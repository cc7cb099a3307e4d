package sops

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// secretMaterial is what no message may contain: the test identities and
// plaintext secrets of the fixtures.
func secretMaterial(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range []string{"age.agekey", "age-b.agekey", "age-pq.agekey"} {
		for _, line := range strings.Split(string(readTestdata(t, "keys", f)), "\n") {
			if strings.HasPrefix(line, "AGE-SECRET-KEY") {
				out = append(out, line)
			}
		}
	}
	return append(out, "hunter2", "tok_live_51H8", "aHVudGVyMg==")
}

func TestDecryptObject(t *testing.T) {
	tests := []struct {
		fixture string
		keys    []string
	}{
		{"secret-data.yaml", []string{"age.agekey"}},
		{"secret-stringdata.yaml", []string{"age.agekey"}},
		{"secret-full.yaml", []string{"age.agekey"}},
		{"secret-unencrypted-regex.yaml", []string{"age.agekey"}},
		{"secret-suffix.yaml", []string{"age.agekey"}},
		{"secret-mac-only.yaml", []string{"age.agekey"}},
		{"secret-pgp.yaml", []string{"pgp.asc"}},
		{"secret-multi-age.yaml", []string{"age.agekey"}},
		{"secret-multi-age.yaml", []string{"age-b.agekey"}},
		{"secret-pq.yaml", []string{"age-pq.agekey"}},
		{"secret-keygroups.yaml", []string{"age.agekey", "pgp.asc"}},
		{"secret-keygroups.yaml", []string{"age.agekey", "age-b.agekey"}},
		{"configmap.yaml", []string{"age.agekey"}},
		{"config-comment.yaml", []string{"age.agekey"}},
		{"config.yaml", []string{"age.agekey"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+" with "+strings.Join(tt.keys, "+"), func(t *testing.T) {
			obj := encryptedObject(t, tt.fixture)
			if !IsEncrypted(obj) {
				t.Fatal("IsEncrypted = false for an encrypted fixture")
			}
			if err := testKeys(t, tt.keys...).DecryptObject(obj); err != nil {
				t.Fatal(err)
			}
			want := objectFromYAML(t, firstDocument(readTestdata(t, "decrypted", tt.fixture)))
			if !reflect.DeepEqual(obj.Object, want.Object) {
				t.Errorf("decrypted object\n%v\nwant (sops --decrypt)\n%v", obj.Object, want.Object)
			}
			if IsEncrypted(obj) {
				t.Error("IsEncrypted = true after decryption")
			}
			_ = obj.DeepCopy() // panics on values that are not JSON types
		})
	}
}

// TestDecryptObjectAfterKustomize decrypts what a kustomize build makes of an
// encrypted Secret: fields reordered, labels, namespace and prefix changed.
func TestDecryptObjectAfterKustomize(t *testing.T) {
	obj := encryptedObject(t, "secret-stringdata.yaml")
	obj.SetName("prod-" + obj.GetName())
	obj.SetNamespace("payments-prod")
	obj.SetLabels(map[string]string{"app": "payments", "kustomize.toolkit.fluxcd.io/name": "payments"})
	if err := testKeys(t, "age.agekey").DecryptObject(obj); err != nil {
		t.Fatal(err)
	}
	got, _, _ := unstructured.NestedStringMap(obj.Object, "stringData")
	if got["token"] != "tok_live_51H8" || got["port"] != "8443" || !strings.HasPrefix(got["config.yaml"], "endpoint: ") {
		t.Errorf("stringData = %v", got)
	}
	if obj.GetName() != "prod-api-token" || obj.GetNamespace() != "payments-prod" {
		t.Errorf("metadata changed: %s/%s", obj.GetNamespace(), obj.GetName())
	}
	// Values of the full-encryption fixture that kustomize added in plain
	// text stay as they are.
	full := encryptedObject(t, "secret-full.yaml")
	full.SetLabels(map[string]string{"added": "by-kustomize"})
	if err := testKeys(t, "age.agekey").DecryptObject(full); err != nil {
		t.Fatal(err)
	}
	if full.GetLabels()["added"] != "by-kustomize" || full.GetKind() != "Secret" {
		t.Errorf("got %v", full.Object)
	}
}

func TestDecryptObjectLeavesAlone(t *testing.T) {
	plain := objectFromYAML(t, readTestdata(t, "plain", "configmap.yaml"))
	optedOut := encryptedObject(t, "secret-data.yaml")
	optedOut.SetAnnotations(map[string]string{DecryptAnnotation: "Disabled"})
	lower := encryptedObject(t, "secret-data.yaml")
	lower.SetAnnotations(map[string]string{DecryptAnnotation: "disabled"})
	noMAC := objectFromYAML(t, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nsops: {note: not SOPS metadata}\n"))
	plainSecret := objectFromYAML(t, readTestdata(t, "plain", "secret-data.yaml"))
	tests := []struct {
		name string
		obj  *unstructured.Unstructured
	}{
		{"object without sops metadata", plain},
		{"Secret without sops metadata", plainSecret},
		{"opt-out annotation", optedOut},
		{"opt-out annotation in lower case", lower},
		{"sops field that is not SOPS metadata", noMAC},
	}
	for _, tt := range tests {
		for _, keys := range []*Keys{nil, testKeys(t, "age.agekey")} {
			t.Run(tt.name+" with "+keys.String(), func(t *testing.T) {
				obj := tt.obj.DeepCopy()
				if err := keys.DecryptObject(obj); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(obj.Object, tt.obj.Object) {
					t.Errorf("object changed:\n%v\nwas\n%v", obj.Object, tt.obj.Object)
				}
			})
		}
	}
	if err := (*Keys)(nil).DecryptObject(nil); err != nil {
		t.Errorf("nil object: %v", err)
	}
}

func TestDecryptObjectErrors(t *testing.T) {
	wrong := map[string][]byte{"other.agekey": []byte(newAgeIdentity(t).String())}
	wrongKeys, err := KeysFromSecret(wrong)
	if err != nil {
		t.Fatal(err)
	}
	cloudKeys, err := KeysFromSecret(map[string][]byte{AWSKMSEntry: []byte("aws_access_key_id: x\n")})
	if err != nil {
		t.Fatal(err)
	}
	age := testKeys(t, "age.agekey")
	tests := []struct {
		name      string
		fixture   string
		mutate    func(obj *unstructured.Unstructured)
		keys      *Keys
		sentinel  error
		fragments []string
	}{
		{name: "no decryption secret configured", fixture: "secret-data.yaml", keys: nil,
			sentinel: ErrNotConfigured, fragments: []string{"Secret/payments/db-credentials", "decryption secret not configured", DecryptAnnotation}},
		{name: "no decryption secret, not a Secret", fixture: "configmap.yaml", keys: nil,
			sentinel: ErrNotConfigured, fragments: []string{"ConfigMap/payments/settings"}},
		{name: "wrong age key", fixture: "secret-data.yaml", keys: wrongKeys,
			sentinel: ErrNoMatchingKey, fragments: []string{"Secret/payments/db-credentials", "no configured key could decrypt", "age recipient age1", "no match among the 1 age identity configured"}},
		{name: "decryption secret without usable keys", fixture: "secret-data.yaml", keys: &Keys{},
			sentinel: ErrNoMatchingKey, fragments: []string{"no age identity configured", "0 age identities, 0 OpenPGP keys"}},
		{name: "OpenPGP document, age key only", fixture: "secret-pgp.yaml", keys: age,
			sentinel: ErrNoMatchingKey, fragments: []string{"OpenPGP recipient", "no OpenPGP key configured"}},
		{name: "key groups below the threshold", fixture: "secret-keygroups.yaml", keys: age,
			sentinel: ErrNoMatchingKey, fragments: []string{"need 2 of 3 key groups, recovered 1", "key group 2: OpenPGP"}},
		{name: "tampered MAC", fixture: "secret-data.yaml", keys: age,
			mutate:   func(o *unstructured.Unstructured) { setSOPS(o, "mac", tamper(sopsField(o, "mac"))) },
			sentinel: ErrIntegrity, fragments: []string{"Secret/payments/db-credentials", "MAC does not authenticate"}},
		{name: "lastmodified changed", fixture: "secret-data.yaml", keys: age,
			mutate:   func(o *unstructured.Unstructured) { setSOPS(o, "lastmodified", "2020-01-01T00:00:00Z") },
			sentinel: ErrIntegrity, fragments: []string{"MAC does not authenticate"}},
		{name: "encrypted values swapped", fixture: "secret-data.yaml", keys: age,
			mutate: func(o *unstructured.Unstructured) {
				u, _, _ := unstructured.NestedString(o.Object, "data", "username")
				p, _, _ := unstructured.NestedString(o.Object, "data", "password")
				_ = unstructured.SetNestedField(o.Object, p, "data", "username")
				_ = unstructured.SetNestedField(o.Object, u, "data", "password")
			},
			sentinel: ErrIntegrity, fragments: []string{"Secret/payments/db-credentials", "data.", "moved from another key"}},
		{name: "malformed encrypted value", fixture: "secret-data.yaml", keys: age,
			mutate: func(o *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(o.Object, "ENC[AES256_GCM,data:!!,iv:x,tag:y,type:str]", "data", "username")
			},
			sentinel: ErrInvalidDocument, fragments: []string{"data.username", "not base64"}},
		{name: "only cloud KMS keys", fixture: "secret-data.yaml", keys: cloudKeys,
			mutate: func(o *unstructured.Unstructured) {
				setSOPS(o, "age", nil)
				setSOPS(o, "kms", []any{map[string]any{"arn": "arn:aws:kms:eu-west-1:111122223333:key/abcd", "enc": "AQICAHh=", "created_at": "2026-01-01T00:00:00Z"}})
			},
			sentinel: ErrUnsupportedKeyType, fragments: []string{"AWS KMS key arn:aws:kms:eu-west-1:111122223333:key/abcd: not supported yet", "unsupported entries sops.aws-kms"}},
		{name: "no lastmodified", fixture: "secret-data.yaml", keys: age,
			mutate:   func(o *unstructured.Unstructured) { setSOPS(o, "lastmodified", nil) },
			sentinel: ErrInvalidDocument, fragments: []string{"no lastmodified"}},
		{name: "two encryption rules", fixture: "secret-data.yaml", keys: age,
			mutate:   func(o *unstructured.Unstructured) { setSOPS(o, "unencrypted_suffix", "_plain") },
			sentinel: ErrInvalidDocument, fragments: []string{"only one of", "unencrypted_suffix and encrypted_regex"}},
		{name: "invalid regex", fixture: "secret-data.yaml", keys: age,
			mutate:   func(o *unstructured.Unstructured) { setSOPS(o, "encrypted_regex", "^(data") },
			sentinel: ErrInvalidDocument, fragments: []string{"encrypted_regex is not a valid regular expression"}},
		{name: "no master keys", fixture: "secret-data.yaml", keys: age,
			mutate:   func(o *unstructured.Unstructured) { setSOPS(o, "age", nil) },
			sentinel: ErrInvalidDocument, fragments: []string{"lists no master keys"}},
	}
	leaks := secretMaterial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := encryptedObject(t, tt.fixture)
			if tt.mutate != nil {
				tt.mutate(obj)
			}
			before := obj.DeepCopy()
			err := tt.keys.DecryptObject(obj)
			wantErr(t, err, tt.sentinel, tt.fragments...)
			if !reflect.DeepEqual(obj.Object, before.Object) {
				t.Error("a failed decryption changed the object")
			}
			if err != nil {
				t.Log(err)
				noSecrets(t, err.Error(), leaks...)
			}
		})
	}
}

func sopsField(o *unstructured.Unstructured, name string) string {
	s, _, _ := unstructured.NestedString(o.Object, "sops", name)
	return s
}

func setSOPS(o *unstructured.Unstructured, name string, v any) {
	m := o.Object["sops"].(map[string]any)
	if v == nil {
		delete(m, name)
		return
	}
	m[name] = v
}

// tamper changes one character of an encrypted value's ciphertext.
func tamper(enc string) string {
	i := strings.Index(enc, "data:") + len("data:")
	return enc[:i] + tamperChar(enc[i]) + enc[i+1:]
}

// TestDecryptSecretData decrypts Secret data values that are whole encrypted
// files, as a secretGenerator makes from files it was given still encrypted.
func TestDecryptSecretData(t *testing.T) {
	b64 := func(parts ...string) string { return base64.StdEncoding.EncodeToString(readTestdata(t, parts...)) }
	secret := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "generated-7c9f", "namespace": "payments"},
			"data": map[string]any{
				"app.env":     b64("encrypted", "app.env"),
				"config.json": b64("encrypted", "config.json"),
				"tls.key":     b64("encrypted", "tls.key"),
				"settings":    b64("encrypted", "config.yaml"), // no extension: kept YAML
				"plain.txt":   base64.StdEncoding.EncodeToString([]byte("not encrypted")),
				"not-base64":  "%%%",
			},
		}}
	}
	obj := secret()
	if err := testKeys(t, "age.agekey").DecryptObject(obj); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"app.env":     b64("decrypted", "app.env"),
		"config.json": b64("decrypted", "config.json"),
		"tls.key":     b64("decrypted", "tls.key"),
		"settings":    b64("decrypted", "config.yaml"),
		"plain.txt":   base64.StdEncoding.EncodeToString([]byte("not encrypted")),
		"not-base64":  "%%%",
	}
	got, _, _ := unstructured.NestedStringMap(obj.Object, "data")
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if got[k] != want[k] {
				g, _ := base64.StdEncoding.DecodeString(got[k])
				t.Errorf("data[%s] = %q", k, g)
			}
		}
	}

	untouched := secret()
	if err := (*Keys)(nil).DecryptObject(untouched); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(untouched.Object, secret().Object) {
		t.Error("without decryption configured the Secret changed")
	}

	failed := secret()
	err := testKeys(t, "pgp.asc").DecryptObject(failed)
	wantErr(t, err, ErrNoMatchingKey, "Secret/payments/generated-7c9f", `data key "app.env"`, "dotenv")
	if !reflect.DeepEqual(failed.Object, secret().Object) {
		t.Error("a failed decryption changed the Secret")
	}
}

// TestDecryptObjectOlderMetadata reads the stanza older sops versions wrote:
// empty or null lists for every key type.
func TestDecryptObjectOlderMetadata(t *testing.T) {
	obj := encryptedObject(t, "secret-data.yaml")
	for name, v := range map[string]any{
		"kms": nil, "gcp_kms": []any{}, "azure_kv": []any{}, "hc_vault": []any{}, "pgp": nil, "version": "3.7.3",
	} {
		obj.Object["sops"].(map[string]any)[name] = v
	}
	if err := testKeys(t, "age.agekey").DecryptObject(obj); err != nil {
		t.Fatal(err)
	}
	want := objectFromYAML(t, readTestdata(t, "decrypted", "secret-data.yaml"))
	if !reflect.DeepEqual(obj.Object, want.Object) {
		t.Errorf("got %v", obj.Object)
	}
}
