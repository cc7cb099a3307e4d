package artifact

import (
	"strings"
	"testing"
)

const (
	sha1Hex   = "132f4e719209eb10b9485302f8593fc0e680f4fc"
	sha256Hex = "95e386f421272710c4cedbbd8607dbbaa019d500e7a5a0b6720bc7bebefc7bf2"
)

func TestFormatGitRevision(t *testing.T) {
	tests := []struct {
		ref, hash string
		want      string
		wantErr   string
	}{
		{ref: "main", hash: sha1Hex, want: "main@sha1:" + sha1Hex},
		{ref: "v1.2.0", hash: sha1Hex, want: "v1.2.0@sha1:" + sha1Hex},
		{ref: "feature/x", hash: sha1Hex, want: "feature/x@sha1:" + sha1Hex},
		{ref: "refs/pull/1/head", hash: sha1Hex, want: "refs/pull/1/head@sha1:" + sha1Hex},
		{ref: "refs/heads/main", hash: sha1Hex, want: "refs/heads/main@sha1:" + sha1Hex},
		{ref: "", hash: sha1Hex, want: "sha1:" + sha1Hex},
		{ref: "main", hash: sha256Hex, want: "main@sha256:" + sha256Hex},
		{ref: "", hash: sha256Hex, want: "sha256:" + sha256Hex},
		{ref: "main", hash: "abc", wantErr: `invalid Git hash "abc": want 40 (SHA-1) or 64 (SHA-256) hex characters, got 3`},
		{ref: "main", hash: strings.ToUpper(sha1Hex), wantErr: "want lowercase hex"},
		{ref: "main", hash: "", wantErr: "got 0"},
		{ref: "bad ref", hash: sha1Hex, wantErr: `invalid Git reference "bad ref": name "bad ref" contains whitespace`},
		{ref: "bad\nref", hash: sha1Hex, wantErr: "contains whitespace or a control character"},
	}
	for _, tt := range tests {
		got, err := FormatGitRevision(tt.ref, tt.hash)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("FormatGitRevision(%q, %q) error = %v, want %q", tt.ref, tt.hash, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FormatGitRevision(%q, %q) = %q, %v; want %q", tt.ref, tt.hash, got, err, tt.want)
		}
	}
}

func TestShortRefName(t *testing.T) {
	tests := map[string]string{
		"refs/heads/main":      "main",
		"refs/tags/v1.0.0":     "v1.0.0",
		"refs/heads/feature/x": "feature/x",
		"refs/pull/1/head":     "1/head",
		"main":                 "main",
		"refs/main":            "refs/main",
		"other/heads/main":     "other/heads/main",
	}
	for in, want := range tests {
		if got := ShortRefName(in); got != want {
			t.Errorf("ShortRefName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRevision(t *testing.T) {
	tests := []struct {
		in                          string
		pointer, algo, sum, wantErr string
	}{
		{in: "main@sha1:" + sha1Hex, pointer: "main", algo: "sha1", sum: sha1Hex},
		{in: "sha1:" + sha1Hex, algo: "sha1", sum: sha1Hex},
		{in: "refs/pull/1/head@sha1:" + sha1Hex, pointer: "refs/pull/1/head", algo: "sha1", sum: sha1Hex},
		{in: "v1.0.0@sha256:" + sha256Hex, pointer: "v1.0.0", algo: "sha256", sum: sha256Hex},
		{in: "user@host@sha256:" + sha256Hex, pointer: "user@host", algo: "sha256", sum: sha256Hex},
		{in: "latest@sha512:" + strings.Repeat("ab", 64), pointer: "latest", algo: "sha512", sum: strings.Repeat("ab", 64)},
		{in: "sha384:" + strings.Repeat("0", 96), algo: "sha384", sum: strings.Repeat("0", 96)},
		{in: "blake3:" + strings.Repeat("f", 64), algo: "blake3", sum: strings.Repeat("f", 64)},
		{in: "x@custom.algo+v2:AbC_-=", pointer: "x", algo: "custom.algo+v2", sum: "AbC_-="},
		{in: "", wantErr: "invalid revision: empty"},
		{in: "6.0.3", wantErr: `invalid revision "6.0.3": want [<name>@]<algorithm>:<checksum>`},
		{in: "main/" + sha1Hex, wantErr: "want [<name>@]<algorithm>:<checksum>"},
		{in: "@sha1:" + sha1Hex, wantErr: "empty name before '@'"},
		{in: "main@", wantErr: "want [<name>@]<algorithm>:<checksum>"},
		{in: "main@:abc", wantErr: `invalid algorithm ""`},
		{in: "main@SHA1:" + sha1Hex, wantErr: `invalid algorithm "SHA1"`},
		{in: "main@sha1:", wantErr: `invalid checksum ""`},
		{in: "main@sha1:abc", wantErr: "the sha1 checksum must be 40 lowercase hex characters"},
		{in: "main@sha256:" + sha1Hex, wantErr: "the sha256 checksum must be 64 lowercase hex characters"},
		{in: "main@sha1:" + strings.ToUpper(sha1Hex), wantErr: "lowercase hex"},
		{in: "main@sha1:" + sha1Hex[:39] + "g", wantErr: "lowercase hex"},
		{in: "main@sha1:a/b", wantErr: `invalid checksum "a/b"`},
		{in: "ma in@sha1:" + sha1Hex, wantErr: "contains whitespace"},
	}
	for _, tt := range tests {
		pointer, algo, sum, err := ParseRevision(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRevision(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || pointer != tt.pointer || algo != tt.algo || sum != tt.sum {
			t.Errorf("ParseRevision(%q) = %q, %q, %q, %v; want %q, %q, %q",
				tt.in, pointer, algo, sum, err, tt.pointer, tt.algo, tt.sum)
		}
	}
}

func TestRevisionDigest(t *testing.T) {
	tests := map[string]string{
		"main@sha1:" + sha1Hex:    "sha1:" + sha1Hex,
		"sha1:" + sha1Hex:         "sha1:" + sha1Hex,
		"a@b@sha256:" + sha256Hex: "sha256:" + sha256Hex,
		"6.0.3":                   "6.0.3",
		"":                        "",
	}
	for in, want := range tests {
		if got := RevisionDigest(in); got != want {
			t.Errorf("RevisionDigest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameRevision(t *testing.T) {
	other := strings.Repeat("1", 40)
	tests := []struct {
		a, b string
		want bool
	}{
		{"main@sha1:" + sha1Hex, "main@sha1:" + sha1Hex, true},
		{"main@sha1:" + sha1Hex, "sha1:" + sha1Hex, true},
		{"main@sha1:" + sha1Hex, "refs/heads/main@sha1:" + sha1Hex, true},
		{"main@sha1:" + sha1Hex, "main@sha1:" + other, false},
		{"sha256:" + sha256Hex, "blake3:" + sha256Hex, false},
		{"6.0.3", "6.0.3", true},
		{"6.0.3", "6.0.4", false},
		{"6.0.3", "sha1:" + sha1Hex, false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := SameRevision(tt.a, tt.b); got != tt.want {
			t.Errorf("SameRevision(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in, algo, wantErr string
	}{
		{in: "sha256:" + sha256Hex, algo: "sha256"},
		{in: "sha384:" + strings.Repeat("a", 96), algo: "sha384"},
		{in: "sha512:" + strings.Repeat("a", 128), algo: "sha512"},
		{in: "sha256", wantErr: "want <algorithm>:<hex>"},
		{in: "md5:" + strings.Repeat("a", 32), wantErr: `unsupported digest algorithm "md5" (supported: sha256, sha384, sha512)`},
		{in: "sha256:abc", wantErr: "the sha256 checksum must be 64 lowercase hex characters"},
		{in: "sha256:" + strings.ToUpper(sha256Hex), wantErr: "lowercase hex"},
	}
	for _, tt := range tests {
		algo, _, err := ParseDigest(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDigest(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || algo != tt.algo {
			t.Errorf("ParseDigest(%q) = %q, %v; want %q", tt.in, algo, err, tt.algo)
		}
	}
}

// FuzzParseRevision checks that whatever parses can be put back together and
// agrees with RevisionDigest and SameRevision.
func FuzzParseRevision(f *testing.F) {
	for _, s := range []string{
		"main@sha1:" + sha1Hex,
		"sha256:" + sha256Hex,
		"refs/pull/1/head@sha1:" + sha1Hex,
		"a@b@sha1:" + sha1Hex,
		"6.0.3",
		"@sha1:x",
		"main@",
		"x@y.z+w:AbC=",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pointer, algo, sum, err := ParseRevision(s)
		if err != nil {
			return
		}
		rebuilt := algo + ":" + sum
		if got := RevisionDigest(s); got != rebuilt {
			t.Fatalf("RevisionDigest(%q) = %q, want %q", s, got, rebuilt)
		}
		if pointer != "" {
			rebuilt = pointer + "@" + rebuilt
		}
		if rebuilt != s {
			t.Fatalf("ParseRevision(%q) parts rebuild %q", s, rebuilt)
		}
		if !SameRevision(s, RevisionDigest(s)) {
			t.Fatalf("SameRevision(%q, its digest) = false", s)
		}
	})
}
