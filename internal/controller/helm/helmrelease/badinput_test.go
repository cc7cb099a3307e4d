package helmrelease_test

// Bad input gets a clear answer: each test gives the controller one kind
// of wrong input and checks that Ready says what is wrong, that nothing
// is applied, that no release is left pending-*, that the retries end
// where the spec says, and that no value (a tenant's secret among them)
// shows in a condition or an event.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// tenantSecret is a value no message may ever show.
const tenantSecret = "s3cr3t-TENANT-hunter2"

// assertSilent fails when a condition or an event of the HelmRelease
// shows one of the values.
func assertSilent(t *testing.T, hr *helmv2.HelmRelease, values ...string) {
	t.Helper()
	got := &helmv2.HelmRelease{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(hr), got); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		for _, c := range got.Status.Conditions {
			if strings.Contains(c.Message, v) {
				t.Errorf("condition %s shows a value: %s", c.Type, c.Message)
			}
		}
		for _, e := range controllertest.Events(t, env.Kube, hr) {
			if strings.Contains(e.Message, v) {
				t.Errorf("event %s shows a value: %s", e.Reason, e.Message)
			}
		}
	}
}

// releaseRecords are the Helm release records (owner=helm Secrets) of
// the release name in ns.
func releaseRecords(t *testing.T, ns, name string) []corev1.Secret {
	t.Helper()
	list := &corev1.SecretList{}
	if err := kube.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": name}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// assertNoPending fails when a record of the release is pending-*.
func assertNoPending(t *testing.T, ns, name string) {
	t.Helper()
	for _, s := range releaseRecords(t, ns, name) {
		if strings.HasPrefix(s.Labels["status"], "pending") {
			t.Errorf("release record %s is left %s", s.Name, s.Labels["status"])
		}
	}
}

// assertNotApplied fails when the ConfigMapChart's ConfigMap exists.
func assertNotApplied(t *testing.T, ns, name string) {
	t.Helper()
	if _, err := configMap(t, ns, name); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap %s/%s was applied (or cannot be read: %v)", ns, name, err)
	}
}

// waitStalled waits for Stalled=True at the current generation.
func waitStalled(t *testing.T, hr *helmv2.HelmRelease, reason string) *helmv2.HelmRelease {
	t.Helper()
	return controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Stalled "+reason, func(o *helmv2.HelmRelease) bool {
		c := reconcile.Get(o, meta.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason && o.Status.ObservedGeneration == o.Generation
	})
}

// assertNoMoreAttempts asks for a reconciliation of a stalled release
// and checks that the handled request tried nothing more.
func assertNoMoreAttempts(t *testing.T, hr *helmv2.HelmRelease, failures int64) {
	t.Helper()
	controllertest.RequestReconcile(t, kube, hr, "bad-input-again")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "request handled", func(o *helmv2.HelmRelease) bool {
		return o.Status.LastHandledReconcileAt == "bad-input-again"
	})
	if got.Status.Failures != failures || !reconcile.IsTrue(got, meta.StalledCondition) {
		t.Errorf("after a reconcile request: failures %d (want %d), stalled %v", got.Status.Failures, failures, reconcile.IsTrue(got, meta.StalledCondition))
	}
}

// valuesSecret makes a Secret whose key holds value, for valuesFrom.
func valuesSecret(t *testing.T, ns, name, key, value string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{key: value}}
	if err := kube.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// Values the chart's values.schema.json refuses: the install fails with
// Helm's words and the failing paths, is remediated as configured (here
// nothing is installed, so there is nothing to uninstall) and stalls
// after its retries; the refused values themselves are never shown, not
// even the one a "pattern" error would quote.
func TestValuesFailingTheChartsSchema(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	schema := `{"type":"object","properties":{
  "replicaCount":{"type":"integer"},
  "apiToken":{"type":"string","pattern":"^tok-"},
  "port":{"type":"integer","minimum":1024}}}`
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0").Schema(schema))
	valuesSecret(t, ns, "token", "apiToken", tenantSecret)
	hr := release(t, ns, "strict", "app", `{"replicaCount":"three","port":80,"message":"inline-`+tenantSecret+`"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.ValuesFrom = []meta.ValuesReference{{Kind: "Secret", Name: "token", ValuesKey: "apiToken", TargetPath: "apiToken"}}
		hr.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 1}}
	})
	got := waitStalled(t, hr, helmv2.RetriesExceededReason)
	ready := condition(got, meta.ReadyCondition)
	for _, want := range []string{"Helm install failed for release " + ns + "/strict", "values don't meet the specifications of the schema",
		"/replicaCount", "/apiToken", "/port", "install retries exhausted after 2 failure(s)"} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready message %q lacks %q", ready.Message, want)
		}
	}
	if ready.Status != metav1.ConditionFalse {
		t.Errorf("Ready = %+v", ready)
	}
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.InstallFailedReason {
		t.Errorf("Released = %+v", c)
	}
	if got.Status.InstallFailures != 2 || got.Status.Failures != 2 {
		t.Errorf("failures %d, install failures %d, want 2", got.Status.Failures, got.Status.InstallFailures)
	}
	// Nothing was installed: no uninstall "remediates" it.
	if c := condition(got, helmv2.RemediatedCondition); c != nil {
		t.Errorf("Remediated = %+v, with nothing installed", c)
	}
	for _, e := range controllertest.Events(t, env.Kube, hr) {
		if e.Reason == helmv2.UninstallSucceededReason {
			t.Errorf("an uninstall of nothing: %s", e.Message)
		}
	}
	controllertest.WaitEvent(t, env.Kube, got, "Warning", helmv2.InstallFailedReason, "/replicaCount")
	assertNotApplied(t, ns, "strict-app")
	if recs := releaseRecords(t, ns, "strict"); len(recs) != 0 {
		t.Errorf("release records %d, want none", len(recs))
	}
	assertSilent(t, hr, tenantSecret, "three")
	assertNoMoreAttempts(t, got, 2)
}

// An upgrade whose values the schema refuses changed nothing in the
// cluster: the deployed release is not rolled back (to an older one), the
// upgrade is retried as configured and then stalls.
func TestUpgradeValuesFailingTheChartsSchemaKeepTheRelease(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0").Schema(`{"type":"object","properties":{"apiToken":{"type":"string","pattern":"^tok-"}}}`))
	hr := release(t, ns, "kept", "app", `{"message":"one"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 1}}
	})
	controllertest.WaitReady(t, kube, hr)
	controllertest.Patch(t, kube, hr, `{"spec":{"values":{"message":"two"}}}`)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.LastReleaseRevision == 2
	})

	controllertest.Patch(t, kube, hr, `{"spec":{"values":{"message":"three","apiToken":"`+tenantSecret+`"}}}`)
	got := waitStalled(t, hr, helmv2.RetriesExceededReason)
	msg := condition(got, meta.ReadyCondition).Message
	for _, want := range []string{"Helm upgrade failed", "/apiToken", "does not match pattern", "upgrade retries exhausted after 2 failure(s)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q lacks %q", msg, want)
		}
	}
	if got.Status.UpgradeFailures != 2 {
		t.Errorf("upgrade failures %d, want 2", got.Status.UpgradeFailures)
	}
	if c := condition(got, helmv2.RemediatedCondition); c != nil {
		t.Errorf("Remediated = %+v, with nothing to remediate", c)
	}
	if h := historyLine(helmHistory(t, ns, "kept")); h != "1:superseded:app-1.0.0 2:deployed:app-1.0.0" {
		t.Errorf("helm history %s, want revision 2 still deployed", h)
	}
	if cm, err := configMap(t, ns, "kept-app"); err != nil || cm.Data["message"] != "two" {
		t.Errorf("the deployed release was changed: %v %v", cm.Data, err)
	}
	assertSilent(t, hr, tenantSecret)
	assertNoMoreAttempts(t, got, 2)
}

// A template that fails to render (the chart's own fail, or a function
// that does not exist) is named with its file and line; nothing is
// applied and no record is written.
func TestTemplateThatFailsToRender(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	failing := helmtest.ConfigMapChart("failing", "1.0.0").Template("guard.yaml",
		"# the chart insists on a mode\n{{- if not .Values.mode }}\n{{ fail \"set .Values.mode to fast or safe\" }}\n{{- end }}\n")
	unparsable := helmtest.ConfigMapChart("unparsable", "1.0.0").Template("broken.yaml",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ nosuchfunction .Values.message }}\n")
	// A dictionary set into itself and printed would overflow the stack
	// and crash the controller, every tenant's releases with it.
	selfholding := helmtest.ConfigMapChart("selfholding", "1.0.0").Template("cycle.yaml",
		"{{- $d := dict }}{{ $_ := set $d \"a\" $d }}\n# {{ $d }}\n")
	repository(t, ns, failing, unparsable, selfholding)
	cases := []struct{ chart, want string }{
		{"failing", "failing/templates/guard.yaml:3"},
		{"unparsable", "unparsable/templates/broken.yaml:6"},
		{"selfholding", "would contain itself"},
	}
	for _, tc := range cases {
		t.Run(tc.chart, func(t *testing.T) {
			t.Parallel()
			hr := release(t, ns, tc.chart, tc.chart, `{"message":"`+tenantSecret+`"}`)
			got := waitStalled(t, hr, helmv2.RetriesExceededReason)
			ready := condition(got, meta.ReadyCondition)
			if !strings.Contains(ready.Message, tc.want) || !strings.Contains(ready.Message, "Helm install failed") {
				t.Errorf("Ready message %q does not name %s", ready.Message, tc.want)
			}
			if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.InstallFailedReason {
				t.Errorf("Released = %+v", c)
			}
			assertNotApplied(t, ns, tc.chart+"-"+tc.chart)
			if recs := releaseRecords(t, ns, tc.chart); len(recs) != 0 {
				t.Errorf("release records %d, want none", len(recs))
			}
			assertSilent(t, hr, tenantSecret)
			assertNoMoreAttempts(t, got, 1)
		})
	}
}

// lookalike makes a Secret named like a record of release name, version
// v, that is not one: labels as given, garbage for data.
func lookalike(t *testing.T, ns, name, v string, labels map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sh.helm.release.v1." + name + "." + v, Labels: labels},
		Type:       "helm.sh/release.v1",
		Data:       map[string][]byte{"release": []byte("not a release at all"), "password": []byte(tenantSecret)},
	}
	if err := kube.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// assertIntact fails unless the Secret still holds its data.
func assertIntact(t *testing.T, s *corev1.Secret) {
	t.Helper()
	got := &corev1.Secret{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(s), got); err != nil {
		t.Fatalf("Secret %s: %v", s.Name, err)
	}
	if string(got.Data["password"]) != tenantSecret || string(got.Data["release"]) != "not a release at all" {
		t.Errorf("Secret %s was changed: %v", s.Name, got.Data)
	}
}

// Secrets named like release records that are not records, as Helm's
// storage sees them: one without Helm's labels is invisible to its
// queries but takes the name of the record an install would write, so
// the install fails naming it; one labelled as a record with data that
// does not decode is skipped, as Helm skips it. Neither is ever changed
// or deleted: not by an install, an upgrade or the uninstall on deletion.
func TestSecretsNamedLikeReleaseRecords(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))

	t.Run("unlabelled, in the way", func(t *testing.T) {
		t.Parallel()
		squat := lookalike(t, ns, "squat", "v1", nil)
		hr := release(t, ns, "squat", "app", "")
		got := waitStalled(t, hr, helmv2.RetriesExceededReason)
		msg := condition(got, meta.ReadyCondition).Message
		for _, want := range []string{"Secret " + ns + "/" + squat.Name, "not a Helm release record"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Ready message %q lacks %q", msg, want)
			}
		}
		assertNotApplied(t, ns, "squat-app")
		assertSilent(t, hr, tenantSecret)
		deleteAndWait(t, got)
		assertIntact(t, squat)
	})

	t.Run("labelled, garbage", func(t *testing.T) {
		t.Parallel()
		odd := lookalike(t, ns, "odd", "v9", map[string]string{"owner": "helm", "name": "odd", "status": "deployed", "version": "9"})
		hr := release(t, ns, "odd", "app", `{"message":"one"}`)
		got := controllertest.WaitReady(t, kube, hr)
		if got.Status.LastReleaseRevision != 1 {
			t.Errorf("installed revision %d, want 1", got.Status.LastReleaseRevision)
		}
		assertIntact(t, odd)
		controllertest.Patch(t, kube, hr, `{"spec":{"values":{"message":"two"}}}`)
		got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
			return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.LastReleaseRevision == 2
		})
		assertIntact(t, odd)
		if list := helmList(t, ns); len(list) != 1 || list[0]["name"] != "odd" || list[0]["revision"] != "2" {
			t.Errorf("helm list %v", list)
		}
		assertSilent(t, hr, tenantSecret)
		deleteAndWait(t, got)
		if _, err := configMap(t, ns, "odd-app"); !apierrors.IsNotFound(err) {
			t.Errorf("the release was not uninstalled: %v", err)
		}
		assertIntact(t, odd)
	})
}

// A target namespace that does not exist fails the install naming it
// (and the field that creates it); with install.createNamespace the
// install creates it.
func TestMissingTargetNamespace(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	absent := ns + "-absent"
	hr := release(t, ns, "away", "app", `{"message":"`+tenantSecret+`"}`, func(hr *helmv2.HelmRelease) { hr.Spec.TargetNamespace = absent })
	got := waitStalled(t, hr, helmv2.RetriesExceededReason)
	msg := condition(got, meta.ReadyCondition).Message
	for _, want := range []string{`"` + absent + `"`, "not found", "install.createNamespace"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q lacks %q", msg, want)
		}
	}
	assertNoPending(t, ns, absent+"-away")
	assertSilent(t, hr, tenantSecret)

	made := ns + "-made"
	t.Cleanup(func() {
		_ = kube.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: made}})
	})
	created := release(t, ns, "made", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.TargetNamespace = made
		hr.Spec.Install = &helmv2.Install{CreateNamespace: true}
	})
	controllertest.WaitReady(t, kube, created)
	if _, err := configMap(t, made, made+"-made-app"); err != nil {
		t.Errorf("the release in the created namespace: %v", err)
	}
}

// A kustomize post-renderer patch that does not apply fails the install
// naming the patch; nothing is applied and no record is left pending-*.
func TestPostRendererPatchThatDoesNotApply(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	cases := []struct {
		name  string
		patch meta.Patch
		want  string
	}{
		{"nomatch", meta.Patch{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-in-the-release\ndata:\n  a: b\n"}, "not-in-the-release"},
		{"badpath", meta.Patch{Patch: `[{"op":"replace","path":"/data/absent/deeper","value":"x"}]`, Target: &meta.Selector{Kind: "ConfigMap"}}, "/data/absent/deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hr := release(t, ns, tc.name, "app", `{"message":"`+tenantSecret+`"}`, func(hr *helmv2.HelmRelease) {
				hr.Spec.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Patches: []meta.Patch{
					{Patch: `[{"op":"add","path":"/data/fine","value":"yes"}]`, Target: &meta.Selector{Kind: "ConfigMap"}},
					tc.patch,
				}}}}
			})
			got := waitStalled(t, hr, helmv2.RetriesExceededReason)
			msg := condition(got, meta.ReadyCondition).Message
			for _, want := range []string{"Helm install failed", "post-renderer 0 (kustomize): patch 1", tc.want} {
				if !strings.Contains(msg, want) {
					t.Errorf("Ready message %q lacks %q", msg, want)
				}
			}
			assertNotApplied(t, ns, tc.name+"-app")
			assertNoPending(t, ns, tc.name)
			assertSilent(t, hr, tenantSecret)
		})
	}
}

// `helm get manifest` (the real helm) shows what the release applied:
// the post-rendered objects of status.inventory, as they are in the
// cluster.
func TestHelmGetManifestIsWhatWasApplied(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0").Template("second.yaml",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-second\ndata:\n  replicas: {{ .Values.replicaCount | quote }}\n"))
	hr := release(t, ns, "shown", "app", `{"message":"manifest","replicaCount":3}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Patches: []meta.Patch{
			{Patch: `[{"op":"add","path":"/data/patched","value":"by-kustomize"}]`, Target: &meta.Selector{Kind: "ConfigMap"}},
		}}}}
	})
	got := controllertest.WaitReady(t, kube, hr)

	out := helmCLI(t)("get", "manifest", "shown", "-n", ns)
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	var ids []string
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("helm get manifest: %v\n%s", err, out)
		}
		if len(u.Object) == 0 {
			continue
		}
		ref := apply.RefOf(&u)
		if ref.Namespace == "" {
			ref.Namespace = ns
		}
		ids = append(ids, ref.ID())
		live, err := configMap(t, ref.Namespace, ref.Name)
		if err != nil {
			t.Errorf("%s of the manifest is not in the cluster: %v", ref.ID(), err)
			continue
		}
		want, _, _ := unstructured.NestedStringMap(u.Object, "data")
		if want["patched"] != "by-kustomize" {
			t.Errorf("%s: the manifest is not the post-rendered one: %v", ref.ID(), want)
		}
		for k, v := range want {
			if live.Data[k] != v {
				t.Errorf("%s data %s: manifest %q, cluster %q", ref.ID(), k, v, live.Data[k])
			}
		}
		if live.Labels[helmv2.NameLabel] != "shown" || u.GetLabels()[helmv2.NameLabel] != "shown" {
			t.Errorf("%s: origin labels cluster %v, manifest %v", ref.ID(), live.Labels, u.GetLabels())
		}
	}
	var inv []string
	for _, e := range got.Status.Inventory.Entries {
		inv = append(inv, e.ID)
	}
	slices.Sort(ids)
	if strings.Join(ids, " ") != strings.Join(inv, " ") || len(ids) != 2 {
		t.Errorf("helm get manifest has %v, status.inventory %v", ids, inv)
	}
}

// Two HelmReleases that depend on each other stall, naming the cycle;
// neither installs.
func TestDependencyCycle(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	a := release(t, ns, "a", "app", "", func(hr *helmv2.HelmRelease) { hr.Spec.DependsOn = []meta.DependencyReference{{Name: "b"}} })
	b := release(t, ns, "b", "app", "", func(hr *helmv2.HelmRelease) { hr.Spec.DependsOn = []meta.DependencyReference{{Name: "a"}} })
	for _, hr := range []*helmv2.HelmRelease{a, b} {
		got := waitStalled(t, hr, meta.DependencyNotReadyReason)
		msg := condition(got, meta.ReadyCondition).Message
		for _, want := range []string{"dependency cycle", ns + "/a", ns + "/b"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: Ready message %q lacks %q", hr.Name, msg, want)
			}
		}
		assertNotApplied(t, ns, hr.Name+"-app")
	}
}

// A values.schema.json that refers to a schema outside the chart (a file
// of the controller's, a URL of its network, a relative name that Helm
// resolves to a file) is refused before anything is applied: Helm's
// validator would load it and could quote it (an enum) in its error. A
// schema with references inside itself and a known draft installs.
func TestSchemaReferencesOutsideTheChartAreNotLoaded(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	leak := filepath.Join(t.TempDir(), "leak.json")
	if err := os.WriteFile(leak, []byte(`{"enum":["LEAKED-CONTROLLER-FILE"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		_, _ = w.Write([]byte(`{"enum":["LEAKED-FROM-NETWORK"]}`))
	}))
	t.Cleanup(srv.Close)
	withRef := func(name, ref string) *helmtest.Chart {
		return helmtest.ConfigMapChart(name, "1.0.0").Schema(`{"type":"object","properties":{"message":{"$ref":"` + ref + `"}}}`)
	}
	refs := map[string]string{"fileref": "file://" + leak, "httpref": srv.URL + "/schema.json", "relref": "leak.json"}
	charts := []*helmtest.Chart{helmtest.ConfigMapChart("inside", "1.0.0").Schema(`{"$schema":"http://json-schema.org/draft-07/schema#",
  "type":"object","definitions":{"msg":{"type":"string"}},"properties":{"message":{"$ref":"#/definitions/msg"}}}`)}
	for name, ref := range refs {
		charts = append(charts, withRef(name, ref))
	}
	repository(t, ns, charts...)

	for name, ref := range refs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hr := release(t, ns, name, name, "")
			got := waitStalled(t, hr, helmv2.RetriesExceededReason)
			msg := condition(got, meta.ReadyCondition).Message
			for _, want := range []string{"Helm install failed", "values.schema.json refers to \"" + ref + "\"", "/properties/message/$ref"} {
				if !strings.Contains(msg, want) {
					t.Errorf("Ready message %q lacks %q", msg, want)
				}
			}
			assertNotApplied(t, ns, name+"-"+name)
			assertSilent(t, hr, "LEAKED")
		})
	}
	t.Run("inside", func(t *testing.T) {
		t.Parallel()
		controllertest.WaitReady(t, kube, release(t, ns, "inside", "inside", ""))
	})
	t.Cleanup(func() {
		if n := requests.Load(); n != 0 {
			t.Errorf("the schema URL was fetched %d time(s)", n)
		}
	})
}
