package helmkube_test

import (
	"context"
	"slices"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

type listEntry struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Revision  string `json:"revision"`
	Status    string `json:"status"`
	Chart     string `json:"chart"`
}

type historyEntry struct {
	Revision int    `json:"revision"`
	Status   string `json:"status"`
	Chart    string `json:"chart"`
}

// TestReleaseLifecycle installs, upgrades, rolls back and uninstalls a
// release through a Target's configurations, and the real helm CLI sees each
// step as Helm's own storage.
func TestReleaseLifecycle(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	target := newTarget(t, env.Config)
	cli := helmtest.NewCLI(t)
	v1 := sdkChart(t, helmtest.ConfigMapChart("demo", "1.0.0"))
	v2 := sdkChart(t, helmtest.ConfigMapChart("demo", "1.1.0"))

	rel, err := install(actionConfig(t, target, ns), ns, "web", v1, nil)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if rel.Version != 1 || rel.Info.Status != "deployed" {
		t.Fatalf("install: revision %d status %s, want 1 deployed", rel.Version, rel.Info.Status)
	}
	cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-demo", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the release's ConfigMap: %v", err)
	}
	var managers []string
	for _, f := range cm.ManagedFields {
		managers = append(managers, f.Manager)
	}
	if !slices.Contains(managers, helmkube.FieldManager) {
		t.Errorf("ConfigMap web-demo managed by %v, want %s among them", managers, helmkube.FieldManager)
	}

	// Each action gets a configuration of its own, as the controller does.
	if _, err := upgrade(actionConfig(t, target, ns), ns, "web", v2, map[string]any{"message": "upgraded"}); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	cm, err = env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["message"] != "upgraded" || cm.Data["chartVersion"] != "1.1.0" {
		t.Errorf("after the upgrade the ConfigMap holds %v, want message upgraded and chart 1.1.0", cm.Data)
	}

	var values map[string]any
	helmJSON(t, cli, &values, "get", "values", "web", "-n", ns)
	if values["message"] != "upgraded" || len(values) != 1 {
		t.Errorf("helm get values: %v, want {message: upgraded}", values)
	}

	rb := action.NewRollback(actionConfig(t, target, ns))
	rb.Version = 1
	rb.WaitStrategy = kube.StatusWatcherStrategy
	rb.Timeout = timeout
	rb.ServerSideApply = "auto"
	if err := rb.Run("web"); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	cm, err = env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["message"] != "hello" || cm.Data["chartVersion"] != "1.0.0" {
		t.Errorf("after the rollback the ConfigMap holds %v, want message hello and chart 1.0.0", cm.Data)
	}

	var list []listEntry
	helmJSON(t, cli, &list, "list", "-n", ns)
	if len(list) != 1 || list[0].Name != "web" || list[0].Revision != "3" || list[0].Status != "deployed" || list[0].Chart != "demo-1.0.0" {
		t.Errorf("helm list: %+v, want web at revision 3, deployed, chart demo-1.0.0", list)
	}
	var history []historyEntry
	helmJSON(t, cli, &history, "history", "web", "-n", ns)
	want := []historyEntry{{1, "superseded", "demo-1.0.0"}, {2, "superseded", "demo-1.1.0"}, {3, "deployed", "demo-1.0.0"}}
	if !slices.Equal(history, want) {
		t.Errorf("helm history: %+v, want %+v", history, want)
	}
	helmJSON(t, cli, &values, "get", "values", "web", "-n", ns)
	if len(values) != 0 {
		t.Errorf("helm get values after rolling back to revision 1: %v, want none", values)
	}

	un := action.NewUninstall(actionConfig(t, target, ns))
	un.WaitStrategy = kube.StatusWatcherStrategy
	un.Timeout = timeout
	un.DeletionPropagation = "background"
	if _, err := un.Run("web"); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	if _, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-demo", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap web-demo after the uninstall: %v, want it not found", err)
	}
	list = nil
	helmJSON(t, cli, &list, "list", "-n", ns)
	if len(list) != 0 {
		t.Errorf("helm list after the uninstall: %+v, want nothing", list)
	}
}

// TestStorageNamespace keeps the release's Secrets in another namespace than
// its objects, where helm finds them.
func TestStorageNamespace(t *testing.T) {
	ns, storage := env.Namespace(t), env.Namespace(t)
	target := newTarget(t, env.Config)
	cfg, err := target.ActionConfig(helmkube.ActionOptions{Namespace: ns, StorageNamespace: storage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := install(cfg, ns, "stored", sdkChart(t, helmtest.ConfigMapChart("demo", "1.0.0")), nil); err != nil {
		t.Fatalf("install: %v", err)
	}
	ctx := context.Background()
	if _, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "stored-demo", metav1.GetOptions{}); err != nil {
		t.Errorf("the release's ConfigMap in %s: %v", ns, err)
	}
	if _, err := env.Kube.CoreV1().Secrets(storage).Get(ctx, "sh.helm.release.v1.stored.v1", metav1.GetOptions{}); err != nil {
		t.Errorf("the release's storage Secret in %s: %v", storage, err)
	}
	var list []listEntry
	helmJSON(t, helmtest.NewCLI(t), &list, "list", "-n", storage)
	if len(list) != 1 || list[0].Name != "stored" || list[0].Namespace != ns {
		t.Errorf("helm list -n %s: %+v, want the release stored in namespace %s", storage, list, ns)
	}
}
