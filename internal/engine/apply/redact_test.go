package apply

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// secret returns a v1 Secret with the given data (values base64-encoded
// here) and stringData.
func secret(data map[string]string, stringData map[string]any) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "creds", "namespace": "apps"},
	}}
	if data != nil {
		d := map[string]any{}
		for k, v := range data {
			d[k] = b64(v)
		}
		obj.Object["data"] = d
	}
	if stringData != nil {
		obj.Object["stringData"] = stringData
	}
	return obj
}

const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4\n-----END PRIVATE KEY-----\n"

func TestRedactSecrets(t *testing.T) {
	obj := secret(
		map[string]string{"password": "hunter2hunter2", "pin": "4711", "flag": "y", "key.pem": pem},
		map[string]any{"token": "tok-1234567890", "port": int64(12345678), "ratio": 31415926.5,
			"enabled": true, "nested": map[string]any{"inner": "nested-secret-value"}},
	)
	for _, tc := range []struct {
		name, msg, want string
	}{
		{"decoded data", `data[password]: Invalid value: "hunter2hunter2": bad`, `data[password]: Invalid value: "***": bad`},
		{"base64 data as sent", `object has data.password=` + b64("hunter2hunter2"), `object has data.password=***`},
		{"stringData", `token "tok-1234567890" is not allowed`, `token "***" is not allowed`},
		{"stringData in base64", `data: {"token":"` + b64("tok-1234567890") + `"}`, `data: {"token":"***"}`},
		{"value typed as a number", `.stringData.port: expected string, got &value.valueUnstructured{Value:12345678}`,
			`.stringData.port: expected string, got &value.valueUnstructured{Value:***}`},
		{"float", `got 3.14159265e+07 or 31415926.5`, `got *** or ***`},
		{"nested map", `got map[string]interface {}{"inner":"nested-secret-value"}`, `got map[string]interface {}{"***":"***"}`},
		{"booleans are no secret", `.stringData.enabled: expected string, got true`, `.stringData.enabled: expected string, got true`},
		{"short value as a token", `pin "4711" is too short`, `pin "***" is too short`},
		{"short value inside a word or name", `Secret "creds-4711" in 47110 and v4711x`, `Secret "creds-4711" in 47110 and v4711x`},
		{"short value at the end of a sentence", `the pin is 4711.`, `the pin is ***.`},
		{"one byte is left alone", `every y in yesterday`, `every y in yesterday`},
		{"multi-line value quoted with %q", `Invalid value: ` + strconv.Quote(pem) + `: bad key`, `Invalid value: "***": bad key`},
		{"multi-line value as is", "key:\n" + pem + "end", "key:\n***end"},
		{"one line of a multi-line value", `line 2: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" is bad`, `line 2: "***" is bad`},
		{"JSON-escaped multi-line value", `{"key.pem":"` + strings.ReplaceAll(pem, "\n", `\n`) + `"}`, `{"key.pem":"***"}`},
		{"adjacent values become one", "hunter2hunter2tok-1234567890", "***"},
		{"nothing to hide", `Secret "creds" is invalid: data[tls.key]: Required value`, `Secret "creds" is invalid: data[tls.key]: Required value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactSecrets(tc.msg, obj); got != tc.want {
				t.Errorf("RedactSecrets(%q)\n got %q\nwant %q", tc.msg, got, tc.want)
			}
		})
	}
}

func TestRedactSecretsOnlySecrets(t *testing.T) {
	cm := secret(map[string]string{"password": "hunter2hunter2"}, nil)
	cm.SetKind("ConfigMap")
	other := secret(map[string]string{"password": "hunter2hunter2"}, nil)
	other.SetAPIVersion("example.com/v1")
	msg := `value "hunter2hunter2"`
	if got := RedactSecrets(msg, cm, other, nil); got != msg {
		t.Errorf("redacted a value of a ConfigMap or of another group's Secret: %q", got)
	}
	if got := RedactSecrets(msg, cm, secret(map[string]string{"a": "hunter2hunter2"}, nil)); got != `value "***"` {
		t.Errorf("got %q", got)
	}
}

func TestRedactInvalidBase64(t *testing.T) {
	obj := secret(nil, nil)
	obj.Object["data"] = map[string]any{"x": "not base64 topsecret!"}
	if got := RedactSecrets(`illegal base64 data "not base64 topsecret!"`, obj); got != `illegal base64 data "***"` {
		t.Errorf("got %q", got)
	}
}

func TestObjectErrorRedactsSecrets(t *testing.T) {
	desired := secret(map[string]string{"password": "new-hunter2hunter2"}, nil)
	live := secret(map[string]string{"password": "old-hunter2hunter2"}, nil)
	ref := RefOf(desired)
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "creds", field.ErrorList{
		field.Invalid(field.NewPath("data", "password"), "new-hunter2hunter2", "was "+"old-hunter2hunter2"),
	})
	err := objectError(ref, "dry-run", invalid, desired, live)
	msg := err.Error()
	for _, leak := range []string{"hunter2", b64("new-hunter2hunter2")} {
		if strings.Contains(msg, leak) {
			t.Errorf("message leaks %q: %s", leak, msg)
		}
	}
	want := `Secret/apps/creds: dry-run failed: Secret "creds" is invalid: data.password: Invalid value: "***": was ***`
	if msg != want {
		t.Errorf("message\n got %s\nwant %s", msg, want)
	}
	if !apierrors.IsInvalid(err) || !errors.Is(err, invalid) {
		t.Error("the API error is not reachable with errors.As/Is")
	}

	// Every way the package hands errors on prints the redacted message.
	withHint := &ObjectError{Ref: ref, Op: "dry-run", Err: invalid, hint: "enable force", secrets: secretValues(desired, live)}
	wrapped := fmt.Errorf("stage: %w", objectError(ref, "apply", fmt.Errorf("still present: %w", invalid), desired, live))
	for name, e := range map[string]error{
		"joined":  errors.Join(err, withHint),
		"delete":  &DeleteError{Failed: []ObjectRef{ref}, Err: errors.Join(err)},
		"wrapped": wrapped,
		"hint":    withHint,
	} {
		for _, text := range []string{e.Error(), fmt.Sprintf("%v", e), fmt.Sprintf("%s", e), fmt.Sprintf("%+v", e)} {
			if strings.Contains(text, "hunter2") {
				t.Errorf("%s: leaks a value: %s", name, text)
			}
		}
	}
	if !strings.HasSuffix(withHint.Error(), "; enable force") {
		t.Errorf("hint lost: %s", withHint)
	}
}

// A Secret whose value equals its name must not have its name starred: that
// would tell the value.
func TestObjectErrorKeepsTheRef(t *testing.T) {
	obj := secret(map[string]string{"x": "creds"}, nil)
	err := objectError(RefOf(obj), "apply", errors.New("boom"), obj)
	if got, want := err.Error(), "Secret/apps/creds: apply failed: boom"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
