package cli

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// TestHelmReleaseWithController drives the HelmRelease commands against the
// real source and helm controllers: a chart of the kit's repository is
// released, upgraded by `reconcile --with-source`, forced, traced from the
// object it made, and its values and history shown.
func TestHelmReleaseWithController(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	if err := kube.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-values", Namespace: ns},
		Data: map[string]string{"values.yaml": "message: from a ConfigMap\n"}}); err != nil {
		t.Fatal(err)
	}
	mustFlux(t, "", "create", "source", "helm", "charts", "-n", ns, "--url="+kit.URL, "--interval=1h", "--timeout=2m")
	_, errOut := mustFlux(t, "", "create", "hr", "app", "-n", ns, "--source=HelmRepository/charts", "--chart=app",
		"--values-from=ConfigMap/app-values", "--interval=1h", "--timeout=2m")
	wantLines(t, errOut, "✔ HelmRelease created", "✔ HelmRelease app is ready", "✔ applied revision 1.0.0")
	released := &corev1.ConfigMap{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-app"}, released); err != nil {
		t.Fatalf("the release's ConfigMap: %v", err)
	}
	if released.Data["message"] != "from a ConfigMap" || released.Data["chartVersion"] != "1.0.0" {
		t.Errorf("released ConfigMap data %v", released.Data)
	}

	out, _ := mustFlux(t, "", "get", "hr", "app", "-n", ns)
	if fields := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1]); len(fields) < 4 ||
		fields[0] != "app" || fields[1] != "1.0.0" || fields[2] != "False" || fields[3] != "True" {
		t.Errorf("flux get hr app:\n%s", out)
	}
	out, _ = mustFlux(t, "", "debug", "hr", "app", "-n", ns, "--show-values")
	if out != "message: from a ConfigMap\n" {
		t.Errorf("flux debug hr --show-values:\n%s", out)
	}
	out, _ = mustFlux(t, "", "trace", "configmap/app-app", "-n", ns)
	for _, want := range []string{"HelmRelease:", "HelmChart:", ns + "-app", "HelmRepository:", "charts", kit.URL} {
		if !strings.Contains(out, want) {
			t.Errorf("flux trace configmap/app-app lacks %q:\n%s", want, out)
		}
	}

	// A new chart version: --with-source fetches the index, then the chart,
	// then upgrades.
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.1.0"))
	_, errOut = mustFlux(t, "", "reconcile", "hr", "app", "-n", ns, "--with-source", "--timeout=2m")
	wantLines(t, errOut, "► annotating HelmRepository charts", "► annotating HelmChart "+ns+"-app",
		"✔ HelmRelease reconciliation completed", "✔ applied revision 1.1.0")

	// --force upgrades though nothing changed: a third release.
	_, errOut = mustFlux(t, "", "reconcile", "hr", "app", "-n", ns, "--force", "--timeout=2m")
	wantLines(t, errOut, "✔ HelmRelease reconciliation completed")
	hr := &helmv2.HelmRelease{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, hr); err != nil {
		t.Fatal(err)
	}
	if len(hr.Status.History) == 0 || hr.Status.History[0].Version != 3 || hr.Status.History[0].ChartVersion != "1.1.0" {
		t.Errorf("after --force, history %+v; want release 3 of 1.1.0", hr.Status.History)
	}
	out, _ = mustFlux(t, "", "debug", "hr", "app", "-n", ns, "--show-history")
	if strings.Count(out, "chartVersion:") != len(hr.Status.History) || !strings.Contains(out, "version: 3") {
		t.Errorf("flux debug hr --show-history:\n%s", out)
	}
}
