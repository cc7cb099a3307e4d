package cli

import (
	"strings"
	"testing"
)

// TestGetShowSource adds the SOURCE column to the Kustomization table, and
// only to kinds that read a source.
func TestGetShowSource(t *testing.T) {
	ns := readFixture(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"get/ks-show-source.txt", []string{"get", "ks", "--show-source"}},
		{"get/ks-show-source-all-namespaces.txt", []string{"get", "kustomizations", "--show-source", "-A", "-l", "fixture=" + ns}},
		{"get/ks-show-source-wide.txt", []string{"get", "kustomization", "app", "--show-source", "-o", "wide"}},
	} {
		out, errOut, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normalise(out, ns))
	}
	if _, _, err := runFlux(t, "", "-n", ns, "get", "sources", "git", "--show-source"); err == nil ||
		!strings.Contains(err.Error(), "unknown flag: --show-source") {
		t.Errorf("get sources git --show-source: want an unknown flag error, got %v", err)
	}
}
