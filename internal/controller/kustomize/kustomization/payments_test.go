package kustomization_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// paymentsRepo is the repository the mission's payments example points at:
// a base and a production overlay, two Deployments, variables from the
// Kustomization and a ConfigMap, and a Secret encrypted with sops and age.
func paymentsRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	secret := testcluster.ReadRepoFile(t, "internal/engine/sops/testdata/encrypted/secret-stringdata.yaml")
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"apps/payments/base/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - api.yaml
  - worker.yaml
  - api-token.enc.yaml
`,
		"apps/payments/base/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n",
		"apps/payments/base/api.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  labels: {app: payments-api, cluster: "${cluster_name}", env: "${env}"}
spec:
  replicas: 1
  selector: {matchLabels: {app: payments-api}}
  template:
    metadata: {labels: {app: payments-api}}
    spec:
      containers:
        - name: api
          image: ghcr.io/my-org/payments-api:1.2.3
          env: [{name: REGION, value: "${region}"}]
`,
		"apps/payments/base/worker.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-worker
  labels: {app: payments-worker}
spec:
  replicas: ${worker_replicas:=1}
  selector: {matchLabels: {app: payments-worker}}
  template:
    metadata: {labels: {app: payments-worker}}
    spec:
      containers: [{name: worker, image: ghcr.io/my-org/payments-worker:1.2.3}]
`,
		"apps/payments/base/api-token.enc.yaml": string(secret),
		"apps/payments/overlays/production/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
patches:
  - target: {kind: Deployment, name: payments-api}
    patch: |
      - op: replace
        path: /spec/replicas
        value: 2
`,
		"README.md": "payments config",
	}, "payments: base and production overlay")
	return repo
}

// TestMissionPaymentsExample applies ../shared/mission/examples/02 as written.
func TestMissionPaymentsExample(t *testing.T) {
	example := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/02-kustomization-payments.yaml")
	ageKey := testcluster.ReadRepoFile(t, "internal/engine/sops/testdata/keys/age.agekey")
	const ns = "flux-system"
	namespace(t, ns)
	gitSource(t, ns, "payments-config", paymentsRepo(t))
	applyYAML(t, ns, `apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-vars}
data: {env: production, worker_replicas: "3"}
`)
	sops := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sops-age-key", Namespace: ns}, Data: map[string][]byte{"age.agekey": ageKey}}
	if err := kube.Create(context.Background(), sops); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, ns, string(example))

	ks := waitReady(t, ns, "payments-app")
	if ready := reconcile.Get(ks, meta.ReadyCondition); !strings.HasPrefix(ready.Message, "Applied revision: main@sha1:") {
		t.Errorf("Ready message %q", ready.Message)
	}
	if h := reconcile.Get(ks, meta.HealthyCondition); h == nil || h.Status != metav1.ConditionTrue {
		t.Errorf("Healthy = %+v; both health checks must pass", h)
	}
	if ks.Status.LastAppliedRevision == "" || ks.Status.LastAppliedRevision != ks.Status.LastAttemptedRevision {
		t.Errorf("lastAppliedRevision %q, lastAttemptedRevision %q", ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision)
	}
	if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) != 4 {
		t.Errorf("inventory: %+v", ks.Status.Inventory)
	}
	if len(ks.Status.History) != 1 || ks.Status.History[0].Digest == "" {
		t.Errorf("history: %+v", ks.Status.History)
	}

	ctx := context.Background()
	var api, worker appsv1.Deployment
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "payments", Name: "payments-api"}, &api); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "payments", Name: "payments-worker"}, &worker); err != nil {
		t.Fatal(err)
	}
	if api.Labels["cluster"] != "prod-eu" || api.Labels["env"] != "production" {
		t.Errorf("substitution from spec and ConfigMap: labels %v", api.Labels)
	}
	if v := api.Spec.Template.Spec.Containers[0].Env[0].Value; v != "eu-west-1" {
		t.Errorf("REGION = %q", v)
	}
	if *api.Spec.Replicas != 2 || *worker.Spec.Replicas != 3 {
		t.Errorf("replicas api %d (overlay patch), worker %d (ConfigMap variable)", *api.Spec.Replicas, *worker.Spec.Replicas)
	}
	if api.Status.AvailableReplicas != 2 {
		t.Errorf("payments-api is %d/2 available although health checks passed", api.Status.AvailableReplicas)
	}
	if api.Labels["kustomize.toolkit.fluxcd.io/name"] != "payments-app" || api.Labels["kustomize.toolkit.fluxcd.io/namespace"] != ns {
		t.Errorf("ownership labels: %v", api.Labels)
	}
	var token corev1.Secret
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "payments", Name: "api-token"}, &token); err != nil {
		t.Fatal(err)
	}
	if string(token.Data["token"]) != "tok_live_51H8" {
		t.Errorf("the SOPS Secret was not decrypted: token = %q", token.Data["token"])
	}
	controllertest.WaitEvent(t, env.Kube, ksNamed(ns, "payments-app"), "Normal", "", "Deployment/payments/payments-api created")
	// The success event reads as kustomize-controller's (issue 19).
	controllertest.WaitEvent(t, env.Kube, ksNamed(ns, "payments-app"), "Normal", meta.ReconciliationSucceededReason,
		", reconciliation finished in ")
}
