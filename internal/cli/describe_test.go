package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// runDescribe runs flux describe with every age written as <age>.
func runDescribe(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	root := &cobra.Command{Use: "flux", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(&out)
	root.SetErr(&errOut)
	f.Kube.AddFlags(root.PersistentFlags())
	root.AddCommand(newDescribeCommandWith(f, describeOptions{age: func(time.Time) string { return "<age>" }}))
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig()}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestDescribe(t *testing.T) {
	ns := readFixture(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"describe/kustomization.txt", []string{"describe", "kustomization", "app"}},
		{"describe/source-git.txt", []string{"describe", "source", "git", "repo"}},
	} {
		out, err := runDescribe(t, append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		checkGolden(t, tc.golden, normalise(out, ns))
	}

	// The real command, with real ages.
	out, _, err := runFlux(t, "", "-n", ns, "describe", "ks", "app")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Name:", "Conditions:", "Inventory (2):", "ConfigMap/" + ns + "/alpha", "Events:", " ago"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe ks app does not show %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"describe", "ks"}, "give the name of one Kustomization"},
		{[]string{"describe", "source", "git", "nope"}, `GitRepository "nope" not found in namespace "` + ns + `"`},
	} {
		if _, _, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error containing %q, got %v", tc.args, tc.want, err)
		}
	}
}
