package envsubst

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestAgreesWithBash runs the table cases marked bash through bash itself
// (with patsub_replacement off, since & is literal here) and checks that it
// prints what the table expects, so the table cannot drift from bash.
func TestAgreesWithBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is required by this test")
	}
	var script strings.Builder
	script.WriteString("shopt -u patsub_replacement 2>/dev/null\n")
	names := make([]string, 0, len(testVars))
	for name := range testVars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&script, "%s='%s'\n", name, strings.ReplaceAll(testVars[name], "'", `'\''`))
	}
	var cases []substCase
	for _, tc := range substCases {
		if !tc.bash {
			continue
		}
		if strings.ContainsAny(tc.in, "\\`'\"") || strings.Contains(tc.in, "$(") {
			t.Fatalf("case %q is marked bash but its input is not safe in a here-document", tc.name)
		}
		cases = append(cases, tc)
		fmt.Fprintf(&script, "cat <<__CASE__\n%s\n__CASE__\nprintf '\\0'\n", tc.in)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--norc", "--noprofile")
	cmd.Env = []string{"LC_ALL=C.UTF-8"}
	cmd.Stdin = strings.NewReader(script.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash failed: %v\n%s", err, stderr.String())
	}
	outputs := strings.Split(string(out), "\x00")
	if len(outputs) != len(cases)+1 {
		t.Fatalf("bash printed %d outputs for %d cases; stderr: %s", len(outputs)-1, len(cases), stderr.String())
	}
	for i, tc := range cases {
		got := strings.TrimSuffix(outputs[i], "\n")
		if got != tc.want {
			t.Errorf("%s: bash expands %q to %q, the table expects %q", tc.name, tc.in, got, tc.want)
		}
	}
}
