package sops

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyFixture puts an encrypted fixture into a scratch directory under name.
func copyFixture(t *testing.T, fixture, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, readTestdata(t, "encrypted", fixture), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecryptFile decrypts every fixture as a file and expects exactly what
// `sops --decrypt` wrote, MAC verified.
func TestDecryptFile(t *testing.T) {
	keys := testKeys(t, "age.agekey", "age-b.agekey", "age-pq.agekey", "pgp.asc")
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			p := copyFixture(t, fx.name, fx.name)
			if err := keys.DecryptFile(p); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if want := readTestdata(t, "decrypted", fx.name); !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant (sops --decrypt)\n%s", got, want)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
			}
		})
	}
}

func TestDecryptFileAs(t *testing.T) {
	keys := testKeys(t, "age.agekey")
	// An encrypted dotenv file under a name that says nothing: as binary it
	// is not a SOPS document and stays as it is; as dotenv it decrypts.
	p := copyFixture(t, "app.env", "secrets.txt")
	if err := keys.DecryptFile(p); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, readTestdata(t, "encrypted", "app.env")) {
		t.Error("DecryptFile changed a file that is not SOPS-encrypted in the format of its name")
	}
	if err := keys.DecryptFileAs(p, Dotenv); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, readTestdata(t, "decrypted", "app.env")) {
		t.Errorf("got\n%s", got)
	}
}

func TestDecryptFileLeavesPlainFiles(t *testing.T) {
	for _, name := range []string{"app.env", "config.json", "config.yaml", "settings.ini", "tls.key"} {
		for _, keys := range []*Keys{nil, testKeys(t, "age.agekey")} {
			t.Run(name+" with "+keys.String(), func(t *testing.T) {
				p := filepath.Join(t.TempDir(), name)
				plain := readTestdata(t, "plain", name)
				if err := os.WriteFile(p, plain, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := keys.DecryptFile(p); err != nil {
					t.Fatal(err)
				}
				if got, _ := os.ReadFile(p); !bytes.Equal(got, plain) {
					t.Errorf("plain file changed:\n%s", got)
				}
			})
		}
	}
}

func TestDecryptFileErrors(t *testing.T) {
	age := testKeys(t, "age.agekey")
	wrong, err := KeysFromSecret(map[string][]byte{"x.agekey": []byte(newAgeIdentity(t).String())})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(fixture, old, new string) func(t *testing.T) string {
		return func(t *testing.T) string {
			p := copyFixture(t, fixture, fixture)
			b := readTestdata(t, "encrypted", fixture)
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%s has no %q", fixture, old)
			}
			if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	tests := []struct {
		name      string
		file      func(t *testing.T) string
		keys      *Keys
		sentinel  error
		fragments []string
	}{
		{name: "no decryption secret configured", keys: nil,
			file:     func(t *testing.T) string { return copyFixture(t, "app.env", "app.env") },
			sentinel: ErrNotConfigured, fragments: []string{"app.env is SOPS-encrypted", "set spec.decryption"}},
		{name: "wrong key", keys: wrong,
			file:     func(t *testing.T) string { return copyFixture(t, "config.json", "config.json") },
			sentinel: ErrNoMatchingKey, fragments: []string{"JSON file", "config.json", "no configured key could decrypt"}},
		{name: "plain value changed", keys: age, file: edit("config-comment.yaml", "public: visible", "public: altered"),
			sentinel: ErrIntegrity, fragments: []string{"YAML file", "config-comment.yaml", "MAC mismatch"}},
		{name: "plain value removed", keys: age, file: edit("config-comment.yaml", "    other: plain\n", ""),
			sentinel: ErrIntegrity, fragments: []string{"MAC mismatch"}},
		{name: "encrypted dotenv lines swapped", keys: age, file: swapLines("app.env", "DB_USER=", "DB_PASSWORD="),
			sentinel: ErrIntegrity, fragments: []string{"app.env", "MAC mismatch"}},
		{name: "tampered MAC", keys: age, file: func(t *testing.T) string {
			b := string(readTestdata(t, "encrypted", "settings.ini"))
			i := strings.Index(b, "mac ")
			j := strings.Index(b[i:], "data:") + i + len("data:")
			p := filepath.Join(t.TempDir(), "settings.ini")
			if err := os.WriteFile(p, []byte(b[:j]+tamperChar(b[j])+b[j+1:]), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, sentinel: ErrIntegrity, fragments: []string{"INI file", "MAC does not authenticate"}},
		{name: "encrypted but not valid YAML", keys: age, file: edit("config.yaml", "service:\n", "service: [\n"),
			sentinel: ErrInvalidDocument, fragments: []string{"config.yaml", "not valid YAML"}},
		{name: "binary file encrypted as another format", keys: age, file: func(t *testing.T) string {
			// A JSON document named as a binary file: valid SOPS, but no
			// "data" string to write back.
			return copyFixture(t, "config.json", "config.bin")
		}, fragments: []string{"config.bin", `no "data" string`}},
		{name: "YAML alias bomb", keys: age, file: writeFile("bomb.yaml", aliasBomb()),
			sentinel: ErrInvalidDocument, fragments: []string{"bomb.yaml", "alias bomb"}},
		{name: "JSON nested too deep", keys: age,
			file: writeFile("deep.json", `{"sops": {"mac": "ENC[AES256_GCM,x]"}, "a": `+
				strings.Repeat("[", maxJSONDepth+1)+strings.Repeat("]", maxJSONDepth+1)+"}"),
			sentinel: ErrInvalidDocument, fragments: []string{"deep.json", "nested deeper than 10000 levels"}},
		{name: "missing file", keys: age, file: func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.env") },
			fragments: []string{"missing.env", "no such file"}},
		{name: "symbolic link", keys: age, file: func(t *testing.T) string {
			target := copyFixture(t, "app.env", "real.env")
			link := filepath.Join(filepath.Dir(target), "link.env")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, fragments: []string{"link.env", "not a regular file"}},
		{name: "file too large", keys: age, file: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "huge.env")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, MaxFileSize+1); err != nil {
				t.Fatal(err)
			}
			return p
		}, fragments: []string{"huge.env", "more than the 5242880 allowed"}},
	}
	leaks := secretMaterial(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.file(t)
			before, _ := os.ReadFile(p)
			err := tt.keys.DecryptFile(p)
			wantErr(t, err, tt.sentinel, tt.fragments...)
			if err != nil {
				t.Log(err)
				noSecrets(t, err.Error(), leaks...)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Error("a failed decryption changed the file")
			}
		})
	}
}

func swapLines(fixture, a, b string) func(t *testing.T) string {
	return func(t *testing.T) string {
		lines := strings.Split(string(readTestdata(t, "encrypted", fixture)), "\n")
		var ia, ib int
		for i, l := range lines {
			switch {
			case strings.HasPrefix(l, a):
				ia = i
			case strings.HasPrefix(l, b):
				ib = i
			}
		}
		// Whole lines keep every value bound to its key (the additional
		// data of its encryption): only the MAC, over the value order,
		// notices.
		lines[ia], lines[ib] = lines[ib], lines[ia]
		p := filepath.Join(t.TempDir(), fixture)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func tamperChar(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func writeFile(name, content string) func(t *testing.T) string {
	return func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// aliasBomb is a small YAML document whose aliases expand to 10^9 values.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("sops:\n    mac: ENC[AES256_GCM,data:x]\n")
	return b.String()
}
