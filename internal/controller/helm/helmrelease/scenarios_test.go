package helmrelease_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func annotate(t *testing.T, obj client.Object, kv ...string) {
	t.Helper()
	var pairs []string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%q:%q", kv[i], kv[i+1]))
	}
	controllertest.Patch(t, kube, obj, `{"metadata":{"annotations":{`+strings.Join(pairs, ",")+`}}}`)
}

// forceAt with an equal requestedAt upgrades once, in sync or not.
func TestForceAt(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "forced", "app", "")
	controllertest.WaitReady(t, kube, hr)

	annotate(t, hr, meta.ReconcileRequestAnnotation, "f1", meta.ForceRequestAnnotation, "f1")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "force handled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "f1"
	})
	if got.Status.LastHandledForceAt != "f1" || got.Status.History[0].Version != 2 || !reconcile.IsTrue(got, meta.ReadyCondition) {
		t.Errorf("after forceAt:\n%s", controllertest.Describe(got))
	}
	if h := historyLine(helmHistory(t, ns, "forced")); h != "1:superseded:app-1.0.0 2:deployed:app-1.0.0" {
		t.Errorf("helm history %s", h)
	}

	// The same forceAt again, with a new requestedAt: handled, no upgrade.
	controllertest.RequestReconcile(t, kube, got, "r2")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "r2 handled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "r2"
	})
	if got.Status.History[0].Version != 2 || len(helmHistory(t, ns, "forced")) != 2 {
		t.Errorf("a handled forceAt upgraded again:\n%s", controllertest.Describe(got))
	}
	// A forceAt without an equal requestedAt is not a force request.
	annotate(t, hr, meta.ReconcileRequestAnnotation, "r3", meta.ForceRequestAnnotation, "f3")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "r3 handled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "r3"
	})
	if got.Status.LastHandledForceAt != "f1" || len(helmHistory(t, ns, "forced")) != 2 {
		t.Errorf("forceAt f3 with requestedAt r3 was taken as a force request:\n%s", controllertest.Describe(got))
	}
}

// resetAt zeroes the counters of a stalled release, which is tried again.
func TestResetAt(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	// The hook fails until a ConfigMap "go" exists: the cause fixed
	// without a new chart or new values.
	repository(t, ns, helmtest.ConfigMapChart("gated", "1.0.0").Template("hook.yaml", hookPod("gate", "pre-install,pre-upgrade", "go")))
	hr := release(t, ns, "gated", "gated", "")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Stalled RetriesExceeded", stalledWith(helmv2.RetriesExceededReason))
	if got.Status.InstallFailures != 1 || got.Status.Failures != 1 {
		t.Fatalf("before the reset:\n%s", controllertest.Describe(got))
	}

	create(t, &corev1.ConfigMap{ObjectMeta: metav1ObjectMeta(ns, "go")})
	annotate(t, hr, meta.ReconcileRequestAnnotation, "reset-1", meta.ResetRequestAnnotation, "reset-1")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Ready after the reset", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "reset-1" && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	if got.Status.LastHandledResetAt != "reset-1" || got.Status.Failures != 0 || got.Status.InstallFailures != 0 || got.Status.UpgradeFailures != 0 {
		t.Errorf("after resetAt:\n%s", controllertest.Describe(got))
	}
	if reconcile.IsTrue(got, meta.StalledCondition) {
		t.Error("still Stalled after a successful retry")
	}
	// The failed install was upgraded in place, as Flux retries one.
	if h := historyLine(helmHistory(t, ns, "gated")); h != "1:superseded:gated-1.0.0 2:deployed:gated-1.0.0" {
		t.Errorf("helm history %s", h)
	}
}

// valuesFrom: a ConfigMap's values.yaml, a Secret's key at a targetPath,
// an optional missing one ignored; a missing required one named.
func TestValuesFrom(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	create(t, &corev1.ConfigMap{ObjectMeta: metav1ObjectMeta(ns, "base"),
		Data: map[string]string{"values.yaml": "message: from-configmap\nreplicaCount: 3\n"}})
	create(t, &corev1.Secret{ObjectMeta: metav1ObjectMeta(ns, "override"), Data: map[string][]byte{"msg": []byte("from-s3cret")}})

	hr := release(t, ns, "vf", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.ValuesFrom = []meta.ValuesReference{
			{Kind: "ConfigMap", Name: "base"},
			{Kind: "Secret", Name: "override", ValuesKey: "msg", TargetPath: "message"},
			{Kind: "ConfigMap", Name: "not-there", Optional: true},
		}
	})
	controllertest.WaitReady(t, kube, hr)
	if cm, err := configMap(t, ns, "vf-app"); err != nil || cm.Data["message"] != "from-s3cret" || cm.Data["replicaCount"] != "3" {
		t.Errorf("released ConfigMap %+v %v", cm.Data, err)
	}

	missing := release(t, ns, "missing", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.ValuesFrom = []meta.ValuesReference{{Kind: "Secret", Name: "absent-values"}}
	})
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(missing), "Ready=False", func(o *helmv2.HelmRelease) bool {
		c := condition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason != meta.ProgressingReason && c.Reason != meta.DependencyNotReadyReason
	})
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "absent-values") || !strings.Contains(msg, "Secret") {
		t.Errorf("Ready message %q does not name the missing Secret", msg)
	}
	if len(helmList(t, ns)) != 1 {
		t.Errorf("a release was made without its values: %v", helmList(t, ns))
	}
	for _, e := range controllertest.Events(t, env.Kube, got) {
		if strings.Contains(e.Message, "from-s3cret") {
			t.Errorf("an event quotes a Secret's value: %q", e.Message)
		}
	}
}

// targetNamespace with install.createNamespace, storage in the
// HelmRelease's namespace.
func TestTargetAndStorageNamespace(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	target := "tgt-" + ns[len(ns)-6:]
	t.Cleanup(func() {
		_ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), target, metav1.DeleteOptions{})
	})
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "web", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.TargetNamespace, hr.Spec.StorageNamespace = target, ns
		hr.Spec.Install = &helmv2.Install{CreateNamespace: true}
	})
	got := controllertest.WaitReady(t, kube, hr)
	name := target + "-web"
	if got.Status.StorageNamespace != ns || got.Status.History[0].Name != name || got.Status.History[0].Namespace != target {
		t.Errorf("status:\n%s", controllertest.Describe(got))
	}
	if _, err := configMap(t, target, name+"-app"); err != nil {
		t.Errorf("the released ConfigMap is not in the target namespace: %v", err)
	}
	if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != name || list[0]["namespace"] != target {
		t.Errorf("helm list -n %s (the storage namespace): %v", ns, list)
	}
	if list := helmList(t, target); len(list) != 0 {
		t.Errorf("release records in the target namespace: %v", list)
	}
}

// dependsOn: a release waits for its dependency to be Ready.
func TestDependsOn(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	kit := repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	// The dependency's chart is not published yet: it cannot be Ready.
	base := release(t, ns, "base", "later", "")
	dependant := release(t, ns, "dependant", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.DependsOn = []meta.DependencyReference{{Name: "base"}}
	})
	got := controllertest.WaitNotReady(t, kube, dependant, meta.DependencyNotReadyReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "base") {
		t.Errorf("Ready message %q does not name the dependency", msg)
	}
	if _, err := configMap(t, ns, "dependant-app"); !apierrors.IsNotFound(err) {
		t.Errorf("installed before its dependency was ready: %v", err)
	}

	publish(t, kit, ns, helmtest.ConfigMapChart("later", "1.0.0"))
	controllertest.WaitReady(t, kube, base)
	controllertest.WaitReady(t, kube, dependant)
	if _, err := configMap(t, ns, "dependant-app"); err != nil {
		t.Errorf("the dependant release: %v", err)
	}
}

// maxHistory bounds Helm's records (and status.history).
func TestMaxHistory(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	two := 2
	hr := release(t, ns, "short", "app", `{"message":"v1"}`, func(hr *helmv2.HelmRelease) { hr.Spec.MaxHistory = &two })
	controllertest.WaitReady(t, kube, hr)
	for i := 2; i <= 5; i++ {
		controllertest.Patch(t, kube, hr, fmt.Sprintf(`{"spec":{"values":{"message":"v%d"}}}`, i))
		controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), fmt.Sprintf("revision %d", i), func(o *helmv2.HelmRelease) bool {
			return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.LastReleaseRevision == i && o.Status.ObservedGeneration == o.Generation
		})
	}
	if h := historyLine(helmHistory(t, ns, "short")); h != "4:superseded:app-1.0.0 5:deployed:app-1.0.0" {
		t.Errorf("helm history %s, want the last 2 records", h)
	}
}

// A release installed by the real helm is adopted by an upgrade; its
// objects keep their UIDs.
func TestAdoptsAReleaseInstalledByHelm(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	c := helmtest.ConfigMapChart("app", "1.0.0")
	repository(t, ns, c)
	dir, err := c.WriteDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	helmCLI(t)("install", "byhand", dir, "-n", ns, "--set", "message=by-hand")
	before, err := configMap(t, ns, "byhand-app")
	if err != nil {
		t.Fatal(err)
	}

	hr := release(t, ns, "byhand", "app", `{"message":"adopted"}`)
	got := controllertest.WaitReady(t, kube, hr)
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.UpgradeSucceededReason || !strings.Contains(c.Message, ns+"/byhand.v2") {
		t.Errorf("Released = %+v", c)
	}
	after, err := configMap(t, ns, "byhand-app")
	if err != nil || after.UID != before.UID || after.Data["message"] != "adopted" {
		t.Errorf("ConfigMap after adoption: %v %+v, UID %s (before %s)", err, after.Data, after.UID, before.UID)
	}
	if after.Labels[helmv2.NameLabel] != "byhand" {
		t.Errorf("the adopted ConfigMap lacks the origin labels: %v", after.Labels)
	}
	if h := historyLine(helmHistory(t, ns, "byhand")); h != "1:superseded:app-1.0.0 2:deployed:app-1.0.0" {
		t.Errorf("helm history %s", h)
	}
}

// impersonation: a ServiceAccount without rights gives Ready=False naming
// it, nothing made; given the rights, it installs.
func TestImpersonatedServiceAccount(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nobody"}})
	hr := release(t, ns, "denied", "app", "", func(hr *helmv2.HelmRelease) { hr.Spec.ServiceAccountName = "nobody" })
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Ready=False", func(o *helmv2.HelmRelease) bool {
		c := condition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason != meta.ProgressingReason && c.Reason != meta.DependencyNotReadyReason
	})
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, "system:serviceaccount:"+ns+":nobody") {
		t.Errorf("Ready message %q does not name the account", msg)
	}
	if _, err := configMap(t, ns, "denied-app"); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap was made: %v", err)
	}
	if list := helmList(t, ns); len(list) != 0 {
		t.Errorf("helm list %v", list)
	}

	// Given the rights, the account installs the release.
	create(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "release"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"*"},
	}}})
	create(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "release"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "release"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "nobody"}}})
	controllertest.RequestReconcile(t, kube, got, "granted")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Ready once granted", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "granted" && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != "denied" {
		t.Errorf("helm list once granted %v", list)
	}
}

// upgrade-chart-name-change and a new releaseName: the former release is
// uninstalled, the new one installed afresh.
func TestMovedReleaseUninstallsTheFormerOne(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"), helmtest.ConfigMapChart("other", "1.0.0"))
	hr := release(t, ns, "mv", "app", "", func(hr *helmv2.HelmRelease) { hr.Spec.ReleaseName = "one" })
	controllertest.WaitReady(t, kube, hr)

	controllertest.Patch(t, kube, hr, `{"spec":{"releaseName":"two"}}`)
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "release two", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.History[0].Name == "two"
	})
	if len(got.Status.History) != 1 || got.Status.History[0].Version != 1 {
		t.Errorf("history %+v", got.Status.History)
	}
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.InstallSucceededReason {
		t.Errorf("Released = %+v", c)
	}
	if _, err := configMap(t, ns, "one-app"); !apierrors.IsNotFound(err) {
		t.Errorf("the former release's ConfigMap: %v", err)
	}
	if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != "two" {
		t.Errorf("helm list %v", list)
	}
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, helmv2.UninstallSucceededReason, "former release "+ns+"/one")

	controllertest.Patch(t, kube, hr, `{"spec":{"chart":{"spec":{"chart":"other"}}}}`)
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "chart other", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.History[0].ChartName == "other"
	})
	if got.Status.History[0].Version != 1 {
		t.Errorf("the new chart was not installed afresh: %+v", got.Status.History)
	}
	if _, err := configMap(t, ns, "two-app"); !apierrors.IsNotFound(err) {
		t.Errorf("the former chart's ConfigMap: %v", err)
	}
	before, err := configMap(t, ns, "two-other")
	if err != nil {
		t.Fatalf("the new chart's ConfigMap: %v", err)
	}

	// A new storage namespace: the records move by a fresh install.
	storage := env.Namespace(t)
	controllertest.Patch(t, kube, hr, `{"spec":{"storageNamespace":"`+storage+`"}}`)
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "stored in "+storage, func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.StorageNamespace == storage
	})
	if list := helmList(t, ns); len(list) != 0 {
		t.Errorf("records left in the former storage namespace: %v", list)
	}
	if list := helmList(t, storage); len(list) != 1 || list[0]["name"] != "two" || list[0]["namespace"] != ns || list[0]["revision"] != "1" {
		t.Errorf("helm list -n %s: %v", storage, list)
	}
	if after, err := configMap(t, ns, "two-other"); err != nil || after.UID == before.UID {
		t.Errorf("the ConfigMap was not released afresh: %v", err)
	}
}

// delete-ns: deleting the namespace of a HelmRelease uninstalls the
// release and the namespace goes; the finalizer does not hold it.
func TestDeleteNamespace(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "gone", "app", "")
	controllertest.WaitReady(t, kube, hr)
	if err := env.Kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, time30s, "namespace "+ns+" deleted", func() (bool, error) {
		_, err := env.Kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// A release name past Helm's 53 characters is shortened as Flux does:
// 40 characters, "-", 12 hex of the full name's sha256.
func TestLongReleaseName(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	name := "a-helmrelease-whose-name-is-too-long-for-a-helm-release-name"
	sum := sha256.Sum256([]byte(name))
	want := name[:40] + "-" + hex.EncodeToString(sum[:])[:12]
	hr := release(t, ns, name, "app", "")
	got := controllertest.WaitReady(t, kube, hr)
	if got.Status.History[0].Name != want {
		t.Errorf("release name %q, want %q", got.Status.History[0].Name, want)
	}
	if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != want {
		t.Errorf("helm list %v", list)
	}
	if _, err := configMap(t, ns, want+"-app"); err != nil {
		t.Errorf("released ConfigMap: %v", err)
	}
}
