package helmrelease_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/helm"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env  *testcluster.Cluster
	kube client.Client
	// artifactStorage is the controllers' artifact storage (path and address).
	artifactStorage manager.StorageOptions
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the real source and helm controllers, as
// driftless-controller wires them.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	return controllertest.StartControllers(c, []manager.Controller{source.Controller(), helm.Controller()}, func(o *manager.Options) {
		artifactStorage = o.Storage
	})
}

// repository serves charts from a kit repository through a Ready
// HelmRepository named charts in ns.
func repository(t *testing.T, ns string, charts ...*helmtest.Chart) *helmtest.Repository {
	t.Helper()
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	for _, c := range charts {
		kit.MustPublish(t, c)
	}
	repo := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: ns},
		Spec: sourcev1.HelmRepositorySpec{URL: kit.URL, Interval: metav1.Duration{Duration: time.Hour}}}
	if err := kube.Create(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitReady(t, kube, repo)
	return kit
}

// release makes a HelmRelease of chart from the charts repository,
// polled hourly, with values.
func release(t *testing.T, ns, name, chart string, values string, mutate ...func(*helmv2.HelmRelease)) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: chart, SourceRef: helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"},
			}},
			Timeout: &metav1.Duration{Duration: time.Minute},
		},
	}
	if values != "" {
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(values)}
	}
	for _, m := range mutate {
		m(hr)
	}
	if err := kube.Create(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// configMap reads the ConfigMap the ConfigMapChart releases: data message
// and version.
func configMap(t *testing.T, ns, name string) (*corev1.ConfigMap, error) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm)
	return cm, err
}

func condition(obj *helmv2.HelmRelease, t string) *metav1.Condition { return reconcile.Get(obj, t) }

// helmCLI is the real helm, pointed at the test cluster.
func helmCLI(t *testing.T) func(args ...string) string {
	cli := helmtest.NewCLI(t)
	return func(args ...string) string {
		return cli.Run(t, append(args, "--kubeconfig", env.Kubeconfig())...)
	}
}

// helmList is `helm list -n ns -a -o json`: name, revision, status, chart.
func helmList(t *testing.T, ns string) []map[string]any {
	t.Helper()
	out := helmCLI(t)("list", "-n", ns, "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &list); err != nil {
		t.Fatalf("helm list: %v\n%s", err, out)
	}
	return list
}
