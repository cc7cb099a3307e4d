package oci

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, registry, path string
	}{
		{"oci://ghcr.io/org/app", "ghcr.io", "org/app"},
		{"oci://127.0.0.1:5000/app", "127.0.0.1:5000", "app"},
		{"oci://localhost:5000/a/b/c/", "localhost:5000", "a/b/c"},
		{"oci://[::1]:5000/org/app", "[::1]:5000", "org/app"},
		{"oci://registry.example.com/team-a/app_1.x", "registry.example.com", "team-a/app_1.x"},
	} {
		r, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if r.Registry != tc.registry || r.Path != tc.path {
			t.Errorf("ParseURL(%q) = %+v, want %s %s", tc.in, r, tc.registry, tc.path)
		}
		if want := "oci://" + tc.registry + "/" + tc.path; r.String() != want {
			t.Errorf("String() = %q, want %q", r.String(), want)
		}
	}
}

func TestParseURLRefuses(t *testing.T) {
	digest := "sha256:" + strings.Repeat("a", 64)
	for _, tc := range []struct{ in, want string }{
		{"ghcr.io/org/app", "must start with oci://"},
		{"https://ghcr.io/org/app", "must start with oci://"},
		{"oci://ghcr.io/org/app:1.0.0", `names tag "1.0.0"; give the tag in spec.ref.tag`},
		{"oci://ghcr.io/org/app@" + digest, "give the digest in spec.ref.digest"},
		{"oci://ghcr.io", "no repository path"},
		{"oci://ghcr.io/", "no repository path"},
		{"oci:///org/app", "no registry host"},
		{"oci://ghcr.io/Org/App", "repository path"},
		{"oci://ghcr.io/org/app?x=1", "query"},
		{"oci://host:port/app", "not a number"},
		{"oci://ghcr.io/org/app@sha256:xyz", "digest"},
		{"oci://ghcr.io/org/app:-bad", "not a valid tag"},
	} {
		_, err := ParseURL(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestParseURLNeverEchoesCredentials(t *testing.T) {
	for _, in := range []string{"oci://user:s3cret@ghcr.io/org/app", "https://user:s3cret@ghcr.io/org/app"} {
		_, err := ParseURL(in)
		if err == nil {
			t.Fatalf("ParseURL(%q) accepted credentials", in)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error %q shows the password", err)
		}
	}
}

func TestParseReference(t *testing.T) {
	digest := "sha256:" + strings.Repeat("b", 64)
	for _, tc := range []struct {
		in              string
		path, tag, dgst string
	}{
		{"oci://ghcr.io/org/app", "org/app", "", ""},
		{"oci://localhost:5000/org/app:v1.2.3", "org/app", "v1.2.3", ""},
		{"oci://localhost:5000/org/app@" + digest, "org/app", "", digest},
		{"oci://localhost:5000/org/app:v1@" + digest, "org/app", "v1", digest},
	} {
		r, err := ParseReference(tc.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tc.in, err)
			continue
		}
		if r.Path != tc.path || r.Tag != tc.tag || r.Digest != tc.dgst {
			t.Errorf("ParseReference(%q) = %+v", tc.in, r)
		}
	}
}
