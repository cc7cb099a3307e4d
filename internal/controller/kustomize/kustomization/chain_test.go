package kustomization_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestMissionDependsOnChain applies ../shared/mission/examples/08 as written:
// infrastructure-controllers → infrastructure-configs → apps. The configs
// use a CRD the controllers install, so applying them out of order fails.
func TestMissionDependsOnChain(t *testing.T) {
	example := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/08-clusters-production.yaml")
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"infrastructure/controllers/crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: issuers.certs.example.com}
spec:
  group: certs.example.com
  names: {kind: Issuer, plural: issuers, singular: issuer}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
		"infrastructure/controllers/deployment.yaml": deploymentYAML("cert-controller", "infra"),
		"infrastructure/controllers/namespace.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata: {name: infra}\n",
		"infrastructure/configs/issuer.yaml":         "apiVersion: certs.example.com/v1\nkind: Issuer\nmetadata: {name: letsencrypt, namespace: infra}\nspec: {acme: true}\n",
		"apps/production/app.yaml":                   deploymentYAML("myapp", "default"),
	}, "fleet")
	const ns = "flux-system"
	namespace(t, ns)
	gitSource(t, ns, "flux-system", repo)
	applyYAML(t, ns, string(example))

	apps := waitReady(t, ns, "apps")
	configs := waitReady(t, ns, "infrastructure-configs")
	controllers := waitReady(t, ns, "infrastructure-controllers")
	readyAt := func(k interface{ GetConditions() []metav1.Condition }) metav1.Time {
		for _, c := range k.GetConditions() {
			if c.Type == meta.ReadyCondition {
				return c.LastTransitionTime
			}
		}
		return metav1.Time{}
	}
	tc, tf, ta := readyAt(controllers), readyAt(configs), readyAt(apps)
	if tf.Before(&tc) || ta.Before(&tf) {
		t.Errorf("not applied in dependency order: controllers %s, configs %s, apps %s",
			readyAt(controllers), readyAt(configs), readyAt(apps))
	}
	if h := reconcile.Get(apps, meta.HealthyCondition); h == nil || h.Status != metav1.ConditionTrue {
		t.Errorf("apps health check (Deployment myapp) did not pass: %+v", h)
	}
	// Every dependant applied the same source revision its dependency did.
	if apps.Status.LastAppliedRevision != controllers.Status.LastAppliedRevision {
		t.Errorf("revisions differ: %s vs %s", apps.Status.LastAppliedRevision, controllers.Status.LastAppliedRevision)
	}
}

func deploymentYAML(name, ns string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec: {containers: [{name: app, image: example.com/` + name + `:1.0.0}]}
`
}

// TestDependencyCycleIsNamed: Flux waits forever on a cycle; Driftless
// stalls and names it.
func TestDependencyCycleIsNamed(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"}, "init")
	ns := env.Namespace(t)
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: a}
spec: {interval: 1h, prune: true, sourceRef: {kind: GitRepository, name: repo}, dependsOn: [{name: b}]}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: b}
spec: {interval: 1h, prune: true, sourceRef: {kind: GitRepository, name: repo}, dependsOn: [{name: c}]}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: c}
spec: {interval: 1h, prune: true, sourceRef: {kind: GitRepository, name: repo}, dependsOn: [{name: a}]}
`)
	want := ns + "/a -> " + ns + "/b -> " + ns + "/c -> " + ns + "/a"
	waitKS(t, ns, "a", "Stalled, naming the cycle", func(k *kustomizev1.Kustomization) bool {
		ready := reconcile.Get(k, meta.ReadyCondition)
		return reconcile.IsTrue(k, meta.StalledCondition) && ready != nil && strings.Contains(ready.Message, want)
	})
	var cms, _ = env.Kube.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	for _, cm := range cms.Items {
		if cm.Name == "cm" {
			t.Error("a Kustomization in a cycle applied its objects")
		}
	}
}
