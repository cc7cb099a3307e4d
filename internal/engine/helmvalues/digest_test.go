package helmvalues

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestDigest(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{name: "nil is the digest of nothing", values: nil, want: sha("")},
		{name: "empty is the digest of nothing", values: m{}, want: sha("")},
		// The digest is of the sorted YAML, as Flux's is: a release Flux
		// installed keeps its configDigest.
		{name: "sorted YAML", values: m{"b": m{"d": "x", "c": l{m{"z": 1, "y": true}}}, "a": 1}, want: sha("a: 1\nb:\n  c:\n  - \"y\": true\n    z: 1\n  d: x\n")},
		{name: "whole JSON numbers as integers", values: m{"a": float64(1), "b": int64(2), "c": 1.5}, want: sha("a: 1\nb: 2\nc: 1.5\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Digest(tt.values); got != tt.want {
				t.Fatalf("Digest = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDigestStable(t *testing.T) {
	// Maps built in different orders, with numbers typed as YAML, JSON
	// and --set type them, digest alike.
	keys := strings.Split("q w e r t y u i o p a s d f g h j k l z x c v b n m", " ")
	build := func(reverse bool, num func(int) any) map[string]any {
		out := map[string]any{}
		for i := range keys {
			k := keys[i]
			if reverse {
				k = keys[len(keys)-1-i]
			}
			out[k] = m{"n": num(len(k)), "list": l{m{"b": k, "a": num(1)}}}
		}
		return out
	}
	want := Digest(build(false, func(i int) any { return i }))
	for name, v := range map[string]map[string]any{
		"reversed":        build(true, func(i int) any { return i }),
		"float64 numbers": build(false, func(i int) any { return float64(i) }),
		"int64 numbers":   build(true, func(i int) any { return int64(i) }),
	} {
		for range 5 {
			if got := Digest(v); got != want {
				t.Fatalf("%s: Digest = %s, want %s", name, got, want)
			}
		}
	}
	if Digest(m{"a": "1"}) == Digest(m{"a": 1}) {
		t.Error("a string and a number digest alike")
	}
	if Digest(m{"a": m{"b": 1}}) == Digest(m{"a": m{"b": 2}}) {
		t.Error("different values digest alike")
	}
}

func TestDigestWith(t *testing.T) {
	for _, algo := range []string{"sha256", "sha384", "sha512"} {
		d, err := DigestWith(algo, m{"a": 1})
		if err != nil || !strings.HasPrefix(d, algo+":") {
			t.Errorf("DigestWith(%s) = %s, %v", algo, d, err)
		}
	}
	if d, _ := DigestWith("sha256", m{"a": 1}); d != Digest(m{"a": 1}) {
		t.Errorf("DigestWith(sha256) = %s differs from Digest", d)
	}
	if _, err := DigestWith("md5", nil); err == nil || !strings.Contains(err.Error(), "unsupported digest algorithm 'md5'") {
		t.Errorf("DigestWith(md5) error %v", err)
	}
	if got := Digest(m{"f": func() {}}); got != "" {
		t.Errorf("Digest of a func = %q, want empty", got)
	}
}
