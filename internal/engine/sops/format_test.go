package sops

import (
	"bytes"
	"crypto/rand"
	"reflect"
	"strings"
	"testing"
)

// splitSecret is the inverse of combineShares, for the test: share i holds a
// random polynomial of degree threshold-1 with the secret byte as its constant
// term, evaluated at x = i+1, followed by x.
func splitSecret(t *testing.T, secret []byte, n, threshold int) [][]byte {
	t.Helper()
	shares := make([][]byte, n)
	for i := range shares {
		shares[i] = make([]byte, len(secret)+1)
		shares[i][len(secret)] = byte(i + 1)
	}
	coeffs := make([]byte, threshold)
	for b, s := range secret {
		if _, err := rand.Read(coeffs); err != nil {
			t.Fatal(err)
		}
		coeffs[0] = s
		for i := range shares {
			x, y := byte(i+1), byte(0)
			for c := threshold - 1; c >= 0; c-- { // Horner
				y = gfMul(y, x) ^ coeffs[c]
			}
			shares[i][b] = y
		}
	}
	return shares
}

func TestCombineShares(t *testing.T) {
	secret := make([]byte, dataKeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	shares := splitSecret(t, secret, 4, 3)
	for _, pick := range [][]int{{0, 1, 2}, {1, 2, 3}, {3, 0, 2}, {0, 1, 2, 3}} {
		var subset [][]byte
		for _, i := range pick {
			subset = append(subset, shares[i])
		}
		got, err := combineShares(subset)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, secret) {
			t.Errorf("shares %v: recovered a different secret", pick)
		}
	}
	// Below the threshold the result is not the secret.
	if got, _ := combineShares(shares[:2]); bytes.Equal(got, secret) {
		t.Error("2 of 3 shares recovered the secret")
	}
	for a := 1; a < 256; a++ {
		if gfMul(byte(a), gfInv(byte(a))) != 1 {
			t.Fatalf("gfInv(%d) is not an inverse", a)
		}
	}
	bad := []struct {
		name   string
		shares [][]byte
		want   string
	}{
		{"one share", shares[:1], "at least 2 shares"},
		{"repeated share", [][]byte{shares[0], shares[0]}, "repeated x"},
		{"zero x", [][]byte{shares[0], append(bytes.Clone(shares[1][:dataKeySize]), 0)}, "zero or repeated x"},
		{"different lengths", [][]byte{shares[0], shares[1][1:]}, "different lengths"},
		{"too short", [][]byte{{1}, {2}}, "too short"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := combineShares(tt.shares)
			wantErr(t, err, nil, tt.want)
		})
	}
}

func TestUnflatten(t *testing.T) {
	got, err := unflatten(map[string]any{
		"age__list_0__map_recipient":                  "age1a",
		"age__list_0__map_enc":                        "x\ny",
		"age__list_1__map_recipient":                  "age1b",
		"key_groups__list_0__map_pgp__list_0__map_fp": "FP",
		"lastmodified":                                "2026-01-01T00:00:00Z",
		"mac_only_encrypted":                          "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"age": []any{
			map[string]any{"recipient": "age1a", "enc": "x\ny"},
			map[string]any{"recipient": "age1b"},
		},
		"key_groups":         []any{map[string]any{"pgp": []any{map[string]any{"fp": "FP"}}}},
		"lastmodified":       "2026-01-01T00:00:00Z",
		"mac_only_encrypted": "true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for _, tt := range []struct {
		name string
		flat map[string]any
		want string
	}{
		{"list with a gap", map[string]any{"age__list_0__map_enc": "a", "age__list_2__map_enc": "b"}, "incomplete list"},
		{"value and container", map[string]any{"age": "x", "age__list_0__map_enc": "a"}, "both a value and a container"},
		{"bad index", map[string]any{"age__list_x__map_enc": "a"}, `list index "x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := unflatten(tt.flat)
			wantErr(t, err, nil, tt.want)
		})
	}
}

func TestRules(t *testing.T) {
	regex := func(kind ruleKind, re string) rules {
		r, err := parseRules(func(name string) (string, error) {
			if name == ruleFields[kind].name {
				return re, nil
			}
			return "", nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	defaults, _ := parseRules(func(string) (string, error) { return "", nil })
	tests := []struct {
		name      string
		r         rules
		path      []string
		stack     [][]string
		isComment bool
		want      bool
	}{
		{"default encrypts", defaults, []string{"data", "password"}, nil, false, true},
		{"default _unencrypted suffix", defaults, []string{"note_unencrypted", "x"}, nil, false, false},
		{"encrypted_suffix hit", regex(encryptedSuffix, "_secret"), []string{"token_secret"}, nil, false, true},
		{"encrypted_suffix miss", regex(encryptedSuffix, "_secret"), []string{"region"}, nil, false, false},
		{"encrypted_regex hit on a parent", regex(encryptedRegex, "^data$"), []string{"data", "x"}, nil, false, true},
		{"encrypted_regex miss", regex(encryptedRegex, "^data$"), []string{"metadata", "name"}, nil, false, false},
		{"unencrypted_regex hit", regex(unencryptedRegex, "^metadata$"), []string{"metadata", "name"}, nil, false, false},
		{"unencrypted_regex miss", regex(unencryptedRegex, "^metadata$"), []string{"data"}, nil, false, true},
		{"encrypted_comment_regex marks the next value", regex(encryptedCommentRegex, "sops:enc"), []string{"secret"}, [][]string{{" sops:enc"}}, false, true},
		{"the marking comment stays plain", regex(encryptedCommentRegex, "sops:enc"), nil, [][]string{{" sops:enc"}}, true, false},
		{"encrypted_comment_regex without comment", regex(encryptedCommentRegex, "sops:enc"), []string{"public"}, [][]string{nil}, false, false},
		{"unencrypted_comment_regex hit in a parent frame", regex(unencryptedCommentRegex, "plain"), []string{"a", "b"}, [][]string{{" plain"}, nil}, false, false},
		{"unencrypted_comment_regex miss", regex(unencryptedCommentRegex, "plain"), []string{"a"}, [][]string{{" other"}}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.encrypted(tt.path, tt.stack, tt.isComment); got != tt.want {
				t.Errorf("encrypted(%v) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestParseEncValueErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "not in the SOPS format"},
		{"ENC[AES256_GCM,data:AA==,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==]", "want data, iv, tag and type"},
		{"ENC[AES256_GCM,data:AA==,data:AA==,iv:AA==,tag:AA==,type:str]", "repeated field"},
		{"ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str,extra:1]", `unknown field "extra"`},
		{"ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]", "tag is not 16 bytes"},
		{"ENC[AES256_GCM,data:AA==,iv:,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]", "iv is empty"},
		{"ENC[AES256_GCM,data:%%,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]", "field data is not base64"},
	} {
		_, err := parseEncValue(tt.in)
		wantErr(t, err, nil, tt.want)
	}
	key := bytes.Repeat([]byte{1}, dataKeySize)
	_, err := decryptValue(key, "ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]", "a:")
	wantErr(t, err, ErrIntegrity, "does not authenticate")
}

func TestFormats(t *testing.T) {
	for name, want := range map[string]Format{
		"a.yaml": YAML, "a.yml": YAML, "a.json": JSON, ".dockerconfigjson": JSON,
		"a.env": Dotenv, "a.ini": INI, "tls.key": Binary, "noext": Binary,
	} {
		if got := FormatForName(name); got != want {
			t.Errorf("FormatForName(%q) = %s, want %s", name, got, want)
		}
	}
	for _, fx := range fixtures() {
		want := FormatForName(fx.name)
		if want == Binary {
			want = JSON // the envelope of a binary file
		}
		got, ok := detectFormat(readTestdata(t, "encrypted", fx.name))
		if !ok || got != want {
			t.Errorf("detectFormat(%s) = %s, %v; want %s", fx.name, got, ok, want)
		}
		if _, ok := detectFormat(readTestdata(t, "decrypted", fx.name)); ok {
			t.Errorf("detectFormat(decrypted %s) found a SOPS document", fx.name)
		}
	}
	if !strings.Contains(Format(99).String(), "binary") {
		t.Error("unknown formats print as binary")
	}
}
