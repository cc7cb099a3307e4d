package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
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

// TestDescribeImagePolicySelection: describe image policy shows the
// controller's status.selection, a real scan of a real registry: the
// counts, the scan, the best tags with the pick marked (extracted values
// next to their tags), and with no tag left, why none.
func TestDescribeImagePolicySelection(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.Start(t, ocitest.Options{})
	pushImageTags(t, reg, "app", "1.0.0", "1.1.0", "1.2.0", "2.0.0", "latest", "main-abc-100", "main-def-200")
	ctx := context.Background()
	repo := &imagev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec: imagev1.ImageRepositorySpec{Image: reg.Ref("app"), Insecure: true, Interval: metav1.Duration{Duration: time.Hour}}}
	if err := kube.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	waitReadyObject(t, &imagev1.ImageRepository{}, ns, "app")
	for _, tc := range []struct {
		name, golden string
		policy       imagev1.ImagePolicyChoice
		filter       *imagev1.TagFilter
		ready        bool
	}{
		{"semver", "describe/image-policy.txt", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}}, nil, true},
		{"builds", "describe/image-policy-extract.txt", imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{}},
			&imagev1.TagFilter{Pattern: `^main-[a-f]+-(?P<ts>[0-9]+)$`, Extract: "$ts"}, true},
		{"none", "describe/image-policy-none.txt", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=3.0.0"}}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := &imagev1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: ns},
				Spec: imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: "app"},
					Policy: tc.policy, FilterTags: tc.filter}}
			if err := kube.Create(ctx, pol); err != nil {
				t.Fatal(err)
			}
			controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(pol), "a selection", func(p *imagev1.ImagePolicy) bool {
				r := reconcile.Get(p, meta.ReadyCondition)
				return p.Status.Selection != nil && r != nil && r.ObservedGeneration == p.Generation &&
					(r.Status == metav1.ConditionTrue) == tc.ready
			})
			out, err := runDescribe(t, "-n", ns, "describe", "image", "policy", tc.name)
			if err != nil {
				t.Fatal(err)
			}
			// A failing policy retries with back-off: how often it has by
			// now is timing.
			checkGolden(t, tc.golden, repeatRE.ReplaceAllString(normalise(out, ns), ""))
		})
	}
}

var repeatRE = regexp.MustCompile(` \(x\d+ over <age>\)`)
