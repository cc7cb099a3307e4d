package helmtest_test

import (
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// render renders c as Helm installs it in namespace ns under release name,
// with values, and returns the objects by "Kind/name".
func render(t *testing.T, c *helmtest.Chart, name, ns, values string) map[string]map[string]any {
	t.Helper()
	ch, err := c.SDK()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(values), &vals); err != nil {
		t.Fatal(err)
	}
	top, err := chartutil.ToRenderValues(ch, vals, common.ReleaseOptions{Name: name, Namespace: ns, IsInstall: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		t.Fatalf("render %s %s: %v", c.Name(), c.Version(), err)
	}
	objs := map[string]map[string]any{}
	for file, body := range files {
		if strings.TrimSpace(body) == "" || strings.HasSuffix(file, ".tpl") {
			continue
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(body), &obj); err != nil {
			t.Fatalf("%s is not YAML: %v\n%s", file, err, body)
		}
		md, _ := obj["metadata"].(map[string]any)
		objs[obj["kind"].(string)+"/"+md["name"].(string)] = obj
	}
	return objs
}

func field(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// The kit's ingress-nginx chart reads the values the mission example sets:
// replicas, a LoadBalancer Service with its annotation, a ServiceMonitor.
func TestIngressNginxChart(t *testing.T) {
	objs := render(t, helmtest.IngressNginxChart("4.11.0"), "ingress-nginx", "ingress-nginx", `controller:
  replicaCount: 3
  service:
    type: LoadBalancer
    annotations:
      service.beta.kubernetes.io/aws-load-balancer-type: nlb
  metrics:
    enabled: true
    serviceMonitor:
      enabled: true
`)
	var kinds []string
	for k := range objs {
		kinds = append(kinds, k)
	}
	want := []string{"Deployment/ingress-nginx-controller", "Service/ingress-nginx-controller",
		"Service/ingress-nginx-controller-metrics", "ServiceMonitor/ingress-nginx-controller"}
	if len(objs) != len(want) {
		t.Errorf("objects %v, want %v", kinds, want)
	}
	for _, k := range want {
		if objs[k] == nil {
			t.Fatalf("no %s among %v", k, kinds)
		}
	}
	dep := objs["Deployment/ingress-nginx-controller"]
	if r := field(dep, "spec", "replicas"); r != float64(3) {
		t.Errorf("replicas %v", r)
	}
	if d := field(dep, "spec", "progressDeadlineSeconds"); d != nil {
		t.Errorf("progressDeadlineSeconds %v, want Kubernetes' default", d)
	}
	if ns := field(dep, "spec", "template", "spec", "nodeSelector"); ns != nil {
		t.Errorf("a working version selects nodes: %v", ns)
	}
	containers := field(dep, "spec", "template", "spec", "containers").([]any)
	if img := containers[0].(map[string]any)["image"]; img != "registry.k8s.io/ingress-nginx/controller:v1.11.0" {
		t.Errorf("image %v", img)
	}
	svc := objs["Service/ingress-nginx-controller"]
	if ty := field(svc, "spec", "type"); ty != "LoadBalancer" {
		t.Errorf("Service type %v", ty)
	}
	if a := field(svc, "metadata", "annotations", "service.beta.kubernetes.io/aws-load-balancer-type"); a != "nlb" {
		t.Errorf("Service annotations %v", field(svc, "metadata", "annotations"))
	}
	sm := objs["ServiceMonitor/ingress-nginx-controller"]
	if v := sm["apiVersion"]; v != "monitoring.coreos.com/v1" {
		t.Errorf("ServiceMonitor apiVersion %v", v)
	}
	if ns := field(sm, "metadata", "namespace"); ns != "ingress-nginx" {
		t.Errorf("ServiceMonitor namespace %v", ns)
	}

	// The defaults: one replica, no metrics, so no ServiceMonitor.
	objs = render(t, helmtest.IngressNginxChart("3.40.0"), "edge", "web", "")
	if objs["ServiceMonitor/edge-ingress-nginx-controller"] != nil || objs["Service/edge-ingress-nginx-controller-metrics"] != nil || len(objs) != 2 {
		t.Errorf("defaults rendered %d objects", len(objs))
	}
	if r := field(objs["Deployment/edge-ingress-nginx-controller"], "spec", "replicas"); r != float64(1) {
		t.Errorf("default replicas %v", r)
	}

	// The broken release: its pods select a node that does not exist.
	objs = render(t, helmtest.IngressNginxChartNeverProgresses("4.12.0"), "ingress-nginx", "ingress-nginx", "")
	broken := objs["Deployment/ingress-nginx-controller"]
	if ns := field(broken, "spec", "template", "spec", "nodeSelector"); ns == nil {
		t.Error("the never-progressing chart schedules its pods")
	}
	if d := field(broken, "spec", "progressDeadlineSeconds"); d != float64(3) {
		t.Errorf("the never-progressing chart's progressDeadlineSeconds %v, want 3", d)
	}
}
