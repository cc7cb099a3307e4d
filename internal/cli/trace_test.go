package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var rfc3339RE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

func TestTrace(t *testing.T) {
	ns := readFixture(t)
	out, _ := mustFlux(t, "", "-n", ns, "trace", "alpha", "--kind", "ConfigMap", "--api-version", "v1")
	checkGolden(t, "trace/configmap.txt", rfc3339RE.ReplaceAllString(normalise(out, ns), "<time>"))

	// Several names print one trace each.
	out, _ = mustFlux(t, "", "-n", ns, "trace", "alpha", "beta", "--kind=ConfigMap", "--api-version=v1")
	if strings.Count(out, "Managed by Flux") != 2 || !strings.Contains(out, "Object:         ConfigMap/beta\n") {
		t.Errorf("trace of two objects:\n%s", out)
	}

	// KIND/NAME, as kubectl takes it, gives the same trace.
	for _, args := range [][]string{{"configmap/alpha"}, {"ConfigMaps/alpha"}, {"configmap/alpha", "--api-version=v1"}} {
		got, _ := mustFlux(t, "", append([]string{"-n", ns, "trace"}, args...)...)
		if got != out[:len(got)] || !strings.Contains(got, "Object:         ConfigMap/alpha\n") {
			t.Errorf("trace %v:\n%s", args, got)
		}
	}
	out, _ = mustFlux(t, "", "-n", ns, "trace", "configmap/alpha", "configmaps/beta")
	if strings.Count(out, "Managed by Flux") != 2 {
		t.Errorf("trace of two KIND/NAME objects:\n%s", out)
	}

	// An object Flux did not apply.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "manual", Namespace: ns}}
	if err := kube.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "manual", "--kind", "ConfigMap", "--api-version", "v1"}, "ConfigMap " + ns + "/manual is not managed by Flux"},
		{[]string{"trace", "nope", "--kind", "ConfigMap", "--api-version", "v1"}, `ConfigMap "nope" not found in namespace "` + ns + `"`},
		{[]string{"trace", "alpha"}, "--kind and --api-version are required"},
		{[]string{"trace", "--kind", "ConfigMap", "--api-version", "v1"}, "give the object to trace"},
		{[]string{"trace", "configmap/"}, "write it as KIND/NAME"},
		{[]string{"trace", "nokind/alpha"}, `unknown kind "nokind"`},
		{[]string{"trace", "configmap/nope"}, `ConfigMap "nope" not found`},
		{[]string{"trace", "alpha", "--kind", "Nope", "--api-version", "v1"}, "check --kind and --api-version"},
	} {
		if _, _, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error containing %q, got %v", tc.args, tc.want, err)
		}
	}
}
