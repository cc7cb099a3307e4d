package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	gitRepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizations  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	configMaps      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// appFiles is a small application: a ConfigMap whose value changes between
// commits, and a Deployment that KWOK makes Available.
func appFiles(greeting string) map[string]string {
	return map[string]string{
		"deploy/kustomization.yaml": "resources:\n- configmap.yaml\n- deployment.yaml\n",
		"deploy/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  greeting: " + greeting + "\n",
		"deploy/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.7.0
`,
	}
}

// TestFluxCommandLine walks the built flux binary through a user's day:
// install, create, get, describe, reconcile, suspend/resume, diff, build,
// tree, trace, events, export and re-apply, bootstrap twice, uninstall. The
// controller runs as a process with the installed ServiceAccount's token.
func TestFluxCommandLine(t *testing.T) {
	out := mustFlux(t, "install", "--timeout", "3m")
	t.Logf("flux install:\n%s", out)
	startController(t, serviceAccountKubeconfig(t, "flux-system", "driftless-controller"))

	repo := gittest.NewRepo(t)
	repo.CommitFiles(gittest.DefaultBranch, appFiles("hello"), "app v1")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	target := env.Namespace(t) + "-apps"
	createNamespace(t, target)

	mustFlux(t, "-n", ns, "create", "source", "git", "app", "--url", srv.RepoURL(repo.Name()), "--branch", gittest.DefaultBranch, "--interval", "1h")
	mustFlux(t, "-n", ns, "create", "kustomization", "app", "--source", "GitRepository/app", "--path", "./deploy",
		"--prune", "--wait", "--target-namespace", target, "--interval", "1h")
	if got := configMapValue(t, target); got != "hello" {
		t.Fatalf("greeting = %q after create, want hello", got)
	}

	t.Run("get", func(t *testing.T) { checkGet(t, ns) })
	t.Run("describe", func(t *testing.T) {
		out := mustFlux(t, "-n", ns, "describe", "kustomization", "app")
		for _, want := range []string{"app", "Ready", "ConfigMap", "Deployment"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe lacks %q:\n%s", want, out)
			}
		}
	})

	repo.CommitFiles(gittest.DefaultBranch, appFiles("bonjour"), "app v2")
	mustFlux(t, "-n", ns, "reconcile", "kustomization", "app", "--with-source")
	if got := configMapValue(t, target); got != "bonjour" {
		t.Fatalf("greeting = %q after reconcile --with-source, want bonjour", got)
	}

	mustFlux(t, "-n", ns, "suspend", "kustomization", "app")
	if !suspended(t, ns, "app") {
		t.Fatal("spec.suspend is not true after flux suspend")
	}
	mustFlux(t, "-n", ns, "resume", "kustomization", "app")
	if suspended(t, ns, "app") {
		t.Fatal("spec.suspend is still true after flux resume")
	}

	t.Run("diff and build", func(t *testing.T) { checkDiffAndBuild(t, ns, target) })
	t.Run("tree trace events", func(t *testing.T) {
		if out := mustFlux(t, "-n", ns, "tree", "kustomization", "app"); !strings.Contains(out, "ConfigMap/"+target+"/greeting") {
			t.Errorf("tree lacks the ConfigMap:\n%s", out)
		}
		out := mustFlux(t, "-n", target, "trace", "greeting", "--kind", "ConfigMap", "--api-version", "v1")
		for _, want := range []string{"Kustomization:", "app", "GitRepository:", srv.RepoURL(repo.Name())} {
			if !strings.Contains(out, want) {
				t.Errorf("trace lacks %q:\n%s", want, out)
			}
		}
		if out := mustFlux(t, "-n", ns, "events", "--for", "Kustomization/app"); !strings.Contains(out, "ReconciliationSucceeded") && !strings.Contains(out, "Progressing") {
			t.Errorf("events show no reconciliation:\n%s", out)
		}
	})
	t.Run("export and re-apply", func(t *testing.T) { checkExportReapply(t, ns) })
	t.Run("bootstrap twice", func(t *testing.T) { flowBootstrapTwice(t) })
	t.Run("uninstall", func(t *testing.T) { flowUninstall(t, target) })
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if _, err := env.Dynamic.Resource(nsGVR).Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Dynamic.Resource(nsGVR).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

func configMapValue(t *testing.T, ns string) string {
	t.Helper()
	cm, err := env.Dynamic.Resource(configMaps).Namespace(ns).Get(context.Background(), "greeting", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("configmap greeting: %v", err)
	}
	v, _, _ := unstructured.NestedString(cm.Object, "data", "greeting")
	return v
}

func suspended(t *testing.T, ns, name string) bool {
	t.Helper()
	ks, err := env.Dynamic.Resource(kustomizations).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := unstructured.NestedBool(ks.Object, "spec", "suspend")
	return s
}

func checkGet(t *testing.T, ns string) {
	table := mustFlux(t, "-n", ns, "get", "kustomizations")
	if !strings.Contains(table, "NAME") || !strings.Contains(table, "app") || !strings.Contains(table, "True") {
		t.Errorf("table output:\n%s", table)
	}
	if wide := mustFlux(t, "-n", ns, "get", "kustomizations", "-o", "wide"); !strings.Contains(wide, gittest.DefaultBranch+"@sha1:") {
		t.Errorf("wide output lacks the revision:\n%s", wide)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(mustFlux(t, "-n", ns, "get", "kustomizations", "-o", "json")), &list); err != nil || len(list.Items) != 1 {
		t.Errorf("json output: %v, %d items", err, len(list.Items))
	}
	if y := mustFlux(t, "-n", ns, "get", "sources", "git", "-o", "yaml"); !strings.Contains(y, "kind: GitRepository") {
		t.Errorf("yaml output:\n%s", y)
	}
	// kubectl's form: kind.group/name.
	if name := strings.TrimSpace(mustFlux(t, "-n", ns, "get", "kustomizations", "-o", "name")); name != "kustomization.kustomize.toolkit.fluxcd.io/app" {
		t.Errorf("name output %q", name)
	}
	all := mustFlux(t, "get", "all", "-A")
	for _, want := range []string{"gitrepository/app", "kustomization/app"} {
		if !strings.Contains(all, want) {
			t.Errorf("get all -A lacks %q:\n%s", want, all)
		}
	}
}

// checkDiffAndBuild diffs a local copy of the repository's path against
// the cluster: identical, then with a change.
func checkDiffAndBuild(t *testing.T, ns, target string) {
	dir := t.TempDir()
	for name, content := range appFiles("bonjour") {
		writeFile(t, filepath.Join(dir, name), content)
	}
	path := filepath.Join(dir, "deploy")
	if code, out, errOut := flux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", path); code != 0 {
		t.Errorf("diff of the applied content: exit %d, want 0\n%s%s", code, out, errOut)
	}
	writeFile(t, filepath.Join(path, "configmap.yaml"), appFiles("hola")["deploy/configmap.yaml"])
	code, out, errOut := flux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", path)
	if code != 1 || !strings.Contains(out, "hola") {
		t.Errorf("diff of a change: exit %d, want 1 and the change\n%s%s", code, out, errOut)
	}
	if code, _, errOut := flux(t, "", "-n", ns, "diff", "kustomization", "app", "--path", filepath.Join(dir, "missing")); code < 2 {
		t.Errorf("diff of a missing path: exit %d, want >1\n%s", code, errOut)
	}
	built := mustFlux(t, "-n", ns, "build", "kustomization", "app", "--path", path)
	for _, want := range []string{"greeting: hola", "namespace: " + target, "kind: Deployment"} {
		if !strings.Contains(built, want) {
			t.Errorf("build lacks %q:\n%s", want, built)
		}
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkExportReapply exports both objects, deletes them, applies the
// export, and expects the same specs back and Ready again.
func checkExportReapply(t *testing.T, ns string) {
	exported := mustFlux(t, "-n", ns, "export", "source", "git", "--all") + mustFlux(t, "-n", ns, "export", "kustomization", "--all")
	before := specs(t, ns)
	mustFlux(t, "-n", ns, "delete", "kustomization", "app", "--silent")
	mustFlux(t, "-n", ns, "delete", "source", "git", "app", "--silent")
	for _, obj := range decodeAll(t, exported) {
		gvr := gitRepositories
		if obj.GetKind() == "Kustomization" {
			gvr = kustomizations
		}
		data, _ := json.Marshal(obj.Object)
		force := true
		if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Patch(context.Background(), obj.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: "e2e", Force: &force}); err != nil {
			t.Fatalf("re-apply %s: %v", obj.GetKind(), err)
		}
	}
	after := specs(t, ns)
	if !equality.Semantic.DeepEqual(before, after) {
		t.Errorf("specs differ after export and re-apply:\nbefore %+v\nafter  %+v", before, after)
	}
	mustFlux(t, "-n", ns, "reconcile", "kustomization", "app", "--with-source")
}

// appSpecs are the typed specs of the GitRepository and the Kustomization
// "app", so that equal durations written differently ("60s", "1m0s")
// compare equal.
type appSpecs struct {
	Source        sourcev1.GitRepositorySpec
	Kustomization kustomizev1.KustomizationSpec
}

func specs(t *testing.T, ns string) appSpecs {
	t.Helper()
	var out appSpecs
	for _, gvr := range []schema.GroupVersionResource{gitRepositories, kustomizations} {
		var obj *unstructured.Unstructured
		testcluster.Eventually(t, 30*time.Second, gvr.Resource+" app exists", func() (bool, error) {
			var err error
			obj, err = env.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), "app", metav1.GetOptions{})
			return err == nil, client(err)
		})
		data, _ := json.Marshal(obj.Object["spec"])
		into := any(&out.Source)
		if gvr == kustomizations {
			into = &out.Kustomization
		}
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("%s spec: %v", gvr.Resource, err)
		}
	}
	return out
}

// client ignores NotFound, which Eventually should retry.
func client(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func decodeAll(t *testing.T, data string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(data)), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decode export: %v\n%s", err, data)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}
