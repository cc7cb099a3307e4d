package helmvalues

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/driftless/driftless/api/meta"
)

// FuzzCompose composes arbitrary values files, inline values and targetPath
// entries: Compose must return values or a *ReferenceError, never panic and
// never quote the secret value; the values must marshal to JSON and digest
// alike every time and in a copy.
func FuzzCompose(f *testing.F) {
	f.Add("a: 1\nb: {c: [1, 2]}\n", `{"b":{"c":[3]}}`, "b.c[1]", "x", false)
	f.Add("a: [1\n", `{}`, `a\.b`, "{a,b,c}", false)
	f.Add("list: [a, b]\n", `{"list":["x"]}`, "list[3].name", `"quoted"`, false)
	f.Add("- 1\n", `null`, "a.b.c", `v\,w,other=1`, true)
	f.Add("a: b\n", `{"a":"s"}`, "a.b", "v", false)
	f.Add("x: &a [*a]\n", `[1]`, "a[99999]", "", false)
	f.Add("k: v\n", `{"n":1.5}`, "n", "0x1F", false)
	f.Fuzz(func(t *testing.T, doc, inlineJSON, path, raw string, lit bool) {
		var inline map[string]any
		if err := json.Unmarshal([]byte(inlineJSON), &inline); err != nil {
			inline = nil
		}
		store := map[string]map[string]string{
			"ConfigMap/doc": {"values.yaml": doc},
			"Secret/raw":    {"v": raw + secretValue},
		}
		refs := []meta.ValuesReference{cm("doc"), {Kind: KindSecret, Name: "raw", ValuesKey: "v", TargetPath: path, Literal: lit}}
		compose := func() (map[string]any, error) {
			return Compose(context.Background(), &objects{data: store}, "ns", refs, inline)
		}
		got, err := compose()
		if err != nil {
			var re *ReferenceError
			if !errors.As(err, &re) {
				t.Fatalf("error %q is not a *ReferenceError", err)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Fatalf("error prints the Secret's value: %q", err)
			}
			return
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("values do not marshal to JSON: %v", err)
		}
		d := Digest(got)
		if !strings.HasPrefix(d, "sha256:") {
			t.Fatalf("Digest = %q", d)
		}
		again, err := compose()
		if err != nil {
			t.Fatalf("second Compose failed: %v", err)
		}
		if d2 := Digest(again); d2 != d {
			t.Fatalf("digest changed between two Compose calls: %s, %s", d, d2)
		}
		if d3 := Digest(copyValue(got).(map[string]any)); d3 != d {
			t.Fatalf("digest of a copy differs: %s, %s", d, d3)
		}
	})
}
