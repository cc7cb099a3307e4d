package imageupdate

import "testing"

func TestSplitRef(t *testing.T) {
	tests := []struct{ ref, name, tag, digest string }{
		{"ghcr.io/my-org/payments-api:1.2.3", "ghcr.io/my-org/payments-api", "1.2.3", ""},
		{"localhost:5000/app", "localhost:5000/app", "", ""},
		{"localhost:5000/team/app:v1@sha256:abc", "localhost:5000/team/app", "v1", "sha256:abc"},
		{"app@sha256:abc", "app", "", "sha256:abc"},
		{"nginx", "nginx", "", ""},
		{"nginx:1.27", "nginx", "1.27", ""},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		name, tag, digest := SplitRef(tc.ref)
		if name != tc.name || tag != tc.tag || digest != tc.digest {
			t.Errorf("SplitRef(%q) = %q %q %q, want %q %q %q", tc.ref, name, tag, digest, tc.name, tc.tag, tc.digest)
		}
	}
}
