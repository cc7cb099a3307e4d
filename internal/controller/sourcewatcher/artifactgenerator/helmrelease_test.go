package artifactgenerator_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func chartFiles(version, message string) map[string]string {
	return map[string]string{
		"charts/app/Chart.yaml":  "apiVersion: v2\nname: app\nversion: " + version + "\n",
		"charts/app/values.yaml": "message: " + message + "\n",
		"charts/app/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-app\n" +
			"data:\n  message: {{ .Values.message | quote }}\n  chartVersion: {{ .Chart.Version | quote }}\n",
	}
}

// TestHelmReleaseFromGeneratedChart: a chart cut out of a monorepo by a
// generator is released by a HelmRelease whose chartRef is the
// ExternalArtifact, and a new chart version committed upstream upgrades it.
func TestHelmReleaseFromGeneratedChart(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	repo, gr := gitSource(t, ns, "monorepo", chartFiles("1.0.0", "hello"))
	controllertest.WaitReady(t, kube, newGenerator(t, ns, "charts", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("monorepo", "monorepo")},
		OutputArtifacts: []swv1.OutputArtifact{output("app-chart", "@monorepo/charts/app/", "@artifact/")},
	}))
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "app-chart"},
		},
	}
	if err := kube.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitReady(t, kube, hr)
	message := func() (string, string) {
		cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-app", metav1.GetOptions{})
		if err != nil {
			return "", ""
		}
		return cm.Data["message"], cm.Data["chartVersion"]
	}
	if m, v := message(); m != "hello" || v != "1.0.0" {
		t.Fatalf("released ConfigMap: message %q, chart %q", m, v)
	}

	repo.CommitFiles("main", chartFiles("1.1.0", "bonjour"), "app 1.1.0")
	controllertest.RequestReconcile(t, kube, gr, "1.1.0")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "upgraded to 1.1.0", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastAttemptedRevision == "1.1.0"
	})
	testcluster.Eventually(t, controllertest.Timeout, "the upgrade's ConfigMap", func() (bool, error) {
		m, v := message()
		return m == "bonjour" && v == "1.1.0", nil
	})
}
