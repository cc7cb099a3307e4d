package apply

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// crd defines the kind Widget in group GROUP, with a "size" field.
const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.GROUP}
spec:
  group: GROUP
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`

// uniqueGroup returns an API group named after the test namespace and
// deletes its CRD when the test ends.
func uniqueGroup(t *testing.T, ns string) string {
	group := ns + ".example.com"
	t.Cleanup(func() {
		_ = env.Dynamic.Resource(crds).Delete(context.Background(), "widgets."+group, metav1.DeleteOptions{})
	})
	return group
}

func TestCRDAndCustomResourceInOneApply(t *testing.T) {
	ns := env.Namespace(t)
	group := uniqueGroup(t, ns)
	// The custom resource comes first: staging must still apply the CRD
	// first and wait for it.
	manifests := strings.ReplaceAll(`
apiVersion: GROUP/v1
kind: Widget
metadata: {name: small, namespace: NS}
spec: {size: 3}
---`+crd, "GROUP", group)
	m := newManager(t)
	cs := mustApply(t, m, objects(t, ns, manifests), opts("widgets", ns))
	wantActions(t, cs, ns, map[string]Action{
		"CustomResourceDefinition/widgets.NS.example.com": Created, "Widget/NS/small": Created,
	})
	if cs.Entries[0].Ref.Kind != "CustomResourceDefinition" {
		t.Errorf("first applied %s, want the CRD", cs.Entries[0].Ref)
	}
	widgets := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
	if got := nested(t, get(t, widgets, ns, "small"), "spec", "size"); got != int64(3) {
		t.Errorf("spec.size = %v, want 3", got)
	}
	cs = mustApply(t, m, objects(t, ns, manifests), opts("widgets", ns))
	if cs.Changed() {
		t.Errorf("second apply changed: %s", cs)
	}
}

func TestNamespaceAndItsObjectsInOneApply(t *testing.T) {
	ns := env.Namespace(t)
	fresh := ns + "-new"
	t.Cleanup(func() {
		_ = env.Dynamic.Resource(namespaces).Delete(context.Background(), fresh, metav1.DeleteOptions{})
	})
	manifests := `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS-new}
data: {a: b}
---
apiVersion: v1
kind: Namespace
metadata: {name: NS-new}
`
	cs := mustApply(t, newManager(t), objects(t, ns, manifests), opts("ns", ns))
	wantActions(t, cs, ns, map[string]Action{"Namespace/NS-new": Created, "ConfigMap/NS-new/settings": Created})
	if get(t, configMaps, fresh, "settings") == nil {
		t.Error("ConfigMap not created in the new namespace")
	}
}

func TestKindOrder(t *testing.T) {
	ns := env.Namespace(t)
	manifests := `
apiVersion: v1
kind: Service
metadata: {name: a, namespace: NS}
spec: {ports: [{port: 80}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: a, namespace: NS}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: a}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: a, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: a}
subjects: [{kind: ServiceAccount, name: a, namespace: NS}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: a, namespace: NS}
rules: []
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: a, namespace: NS}
---
apiVersion: v1
kind: Secret
metadata: {name: a, namespace: NS}
stringData: {k: v}
---
apiVersion: v1
kind: LimitRange
metadata: {name: a, namespace: NS}
spec: {limits: [{type: Container, default: {cpu: 100m}}]}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: a, namespace: NS}
spec: {hard: {pods: "10"}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: a, namespace: NS}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: a}
  minReplicas: 1
  maxReplicas: 2
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: NS-high}
value: 1000
`
	t.Cleanup(func() {
		_ = env.Kube.SchedulingV1().PriorityClasses().Delete(context.Background(), ns+"-high", metav1.DeleteOptions{})
	})
	cs := mustApply(t, newManager(t), objects(t, ns, manifests), opts("order", ns))
	var got []string
	for _, e := range cs.Entries {
		got = append(got, strings.ReplaceAll(e.Ref.String(), ns, "NS")+" "+string(e.Action))
	}
	want := []string{
		"PriorityClass/NS-high created",
		"ResourceQuota/NS/a created",
		"ServiceAccount/NS/a created",
		"Role/NS/a created",
		"RoleBinding/NS/a created",
		"ConfigMap/NS/a created",
		"ConfigMap/NS/b created",
		"Secret/NS/a created",
		"Service/NS/a created",
		"LimitRange/NS/a created",
		"PodDisruptionBudget/NS/a created",
		"HorizontalPodAutoscaler/NS/a created",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("apply order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
