package imagerepository

import (
	"slices"
	"strings"
	"testing"

	imagev1 "github.com/driftless/driftless/api/image/v1"
)

// TestParseImage follows Flux's rules and messages for spec.image and its
// canonical name.
func TestParseImage(t *testing.T) {
	cases := []struct {
		image, canonical, registry, path, err string
	}{
		{image: "nginx", canonical: "index.docker.io/library/nginx", registry: "index.docker.io", path: "library/nginx"},
		{image: "docker.io/fluxcd/flux", canonical: "index.docker.io/fluxcd/flux", registry: "index.docker.io", path: "fluxcd/flux"},
		{image: "ghcr.io/org/app", canonical: "ghcr.io/org/app", registry: "ghcr.io", path: "org/app"},
		{image: "localhost:5000/team/app", canonical: "localhost:5000/team/app", registry: "localhost:5000", path: "team/app"},
		{image: "https://ghcr.io/org/app", err: ".spec.image value should not start with URL scheme; remove 'https://'"},
		{image: "ghcr.io/org/app:1.0", err: ".spec.image value should not contain a tag; remove ':1.0'"},
		{image: "localhost:5000/app:v2", err: ".spec.image value should not contain a tag; remove ':v2'"},
		{image: "nginx:latest", err: ".spec.image value should not contain a tag; remove ':latest'"},
		{image: "nginx@sha256:" + strings.Repeat("a", 64), err: ".spec.image value should not contain a digest; remove '@sha256:" + strings.Repeat("a", 64) + "'"},
		{image: "ghcr.io/Org/App", err: "could not parse reference"},
	}
	for _, c := range cases {
		img, err := ParseImage(c.image, false)
		if c.err != "" {
			if err == nil || !contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.image, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.image, err)
			continue
		}
		if img.Canonical != c.canonical || img.Repository.Registry != c.registry || img.Repository.Path != c.path {
			t.Errorf("%s: %+v", c.image, img)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestExclusions(t *testing.T) {
	res, err := exclusions(ExclusionList(&imagev1.ImageRepository{}))
	if err != nil {
		t.Fatal(err)
	}
	got := exclude([]string{"1.0", "sha256-abc.sig", "sha256-abc.att"}, res)
	if !slices.Equal(got, []string{"1.0", "sha256-abc.att"}) {
		t.Errorf("default exclusion: %v", got)
	}
	if _, err := exclusions([]string{"ok", "[bad"}); err == nil || !contains(err.Error(), "'[bad'") {
		t.Errorf("bad pattern: %v", err)
	}
	if got := latestTags([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}); !slices.Equal(got, []string{"k", "j", "i", "h", "g", "f", "e", "d", "c", "b"}) {
		t.Errorf("latestTags %v", got)
	}
	unsorted := []string{"b", "3", "a"}
	if got := latestTags(unsorted); !slices.Equal(got, []string{"b", "a", "3"}) || !slices.Equal(unsorted, []string{"b", "3", "a"}) {
		t.Errorf("latestTags of an unsorted list %v, and the list became %v", got, unsorted)
	}
}
