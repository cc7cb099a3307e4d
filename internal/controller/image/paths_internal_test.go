package image

import (
	"strings"
	"testing"
)

// TestCheckStoragePaths refuses a tag store that overlaps the published
// artifact storage.
func TestCheckStoragePaths(t *testing.T) {
	cases := []struct {
		images, artifacts string
		ok                bool
	}{
		{DefaultStoragePath, "/data", true},
		{"/data-images", "/data", true},
		{"/data/images", "/data", false},
		{"/data", "/data", false},
		{"/data", "/data/artifacts", false},
		{"/data/../images", "/data", true},
		{"/images", "", true},
		{"", "/data", false},
	}
	for _, c := range cases {
		err := checkStoragePaths(c.images, c.artifacts)
		if (err == nil) != c.ok {
			t.Errorf("%q under %q: %v", c.images, c.artifacts, err)
		}
		if err != nil && c.images != "" && !strings.Contains(err.Error(), "publishes") {
			t.Errorf("message %q", err)
		}
	}
}
