package apply

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStagesAndKindOrder(t *testing.T) {
	refs := []ObjectRef{
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration", Name: "v"},
		{Group: "apps", Kind: "Deployment", Namespace: "b", Name: "web"},
		{Group: "apps", Kind: "Deployment", Namespace: "a", Name: "web"},
		{Group: "example.com", Kind: "Widget", Namespace: "a", Name: "w"},
		{Group: "kyverno.io", Kind: "ClusterPolicy", Name: "p"},
		{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration", Name: "m"},
		{Group: "gateway.networking.k8s.io", Kind: "GatewayClass", Name: "g"},
		{Group: "storage.k8s.io", Kind: "StorageClass", Name: "s"},
		{Group: "example.com", Kind: "WidgetClass", Name: "wc"},
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "r"},
		{Kind: "Namespace", Name: "a"},
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: "widgets.example.com"},
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding", Name: "r"},
		{Kind: "Service", Namespace: "a", Name: "web"},
		{Group: "batch", Kind: "CronJob", Namespace: "a", Name: "c"},
		{Group: "apps", Kind: "StatefulSet", Namespace: "a", Name: "db"},
		{Group: "autoscaling", Kind: "HorizontalPodAutoscaler", Namespace: "a", Name: "web"},
	}
	var objs []*object
	for _, r := range refs {
		objs = append(objs, &object{ref: r})
	}
	got := stages(objs, []schema.GroupKind{{Group: "kyverno.io", Kind: "ClusterPolicy"}})
	want := [stageCount][]string{
		{"CustomResourceDefinition/widgets.example.com", "Namespace/a", "ClusterRole/r"},
		{"StorageClass/s", "GatewayClass/g", "WidgetClass/wc"},
		{"ClusterPolicy/p"},
		{"ClusterRoleBinding/r", "Service/a/web", "Deployment/a/web", "Deployment/b/web", "StatefulSet/a/db", "CronJob/a/c",
			"HorizontalPodAutoscaler/a/web", "Widget/a/w", "MutatingWebhookConfiguration/m", "ValidatingWebhookConfiguration/v"},
	}
	for s := range got {
		var names []string
		for _, o := range got[s] {
			names = append(names, o.ref.String())
		}
		if strings.Join(names, " ") != strings.Join(want[s], " ") {
			t.Errorf("stage %d:\n got  %v\n want %v", s, names, want[s])
		}
	}
	del := deleteOrder([]ObjectRef{refs[11], refs[10], refs[1], refs[0]})
	var names []string
	for _, r := range del {
		names = append(names, r.String())
	}
	if w := "ValidatingWebhookConfiguration/v Deployment/b/web Namespace/a CustomResourceDefinition/widgets.example.com"; strings.Join(names, " ") != w {
		t.Errorf("delete order %v, want %s", names, w)
	}
}

func TestInterleaveKinds(t *testing.T) {
	mk := func(kind, name string) *object { return &object{ref: ObjectRef{Kind: kind, Name: name}} }
	objs := []*object{mk("ConfigMap", "a"), mk("ConfigMap", "b"), mk("ConfigMap", "c"), mk("Secret", "a"), mk("Service", "a"), mk("Service", "b")}
	got := interleaveKinds(objs)
	want := []int{0, 3, 4, 1, 5, 2}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if len(interleaveKinds(nil)) != 0 {
		t.Fatal("nil objects gave indexes")
	}
}
