package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/engine/sops"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := findRepoRoot("", "")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFleetKustomizations(t *testing.T) {
	got, err := fleetKustomizations(filepath.Join(repoRoot(t), "examples", "fleet", "clusters", "local"))
	if err != nil {
		t.Fatal(err)
	}
	want := "flux-system/apps flux-system/infra-controllers flux-system/infra-configs"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestEncryptTemplates(t *testing.T) {
	work := filepath.Join(t.TempDir(), "fleet")
	if err := copyFleet(filepath.Join(repoRoot(t), "examples", "fleet"), work); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "age.agekey")
	id, err := newAgeKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	done, err := encryptTemplates(work, id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(done, ",") != "apps/local/secrets/db-credentials.yaml" {
		t.Fatalf("encrypted %v", done)
	}
	enc, err := os.ReadFile(filepath.Join(work, done[0]))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("change-me")) || !bytes.Contains(enc, []byte("name: db-credentials")) {
		t.Errorf("not encrypted as expected:\n%s", enc)
	}
	// The key file is what the sops-age Secret holds: it must decrypt.
	keyData, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sops.KeysFromSecret(map[string][]byte{"age.agekey": keyData})
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(enc, &obj.Object); err != nil {
		t.Fatal(err)
	}
	if err := keys.DecryptObject(obj); err != nil {
		t.Fatal(err)
	}
	if pw, _, _ := unstructured.NestedString(obj.Object, "stringData", "password"); pw != "change-me-in-a-real-cluster" {
		t.Errorf("decrypted password %q", pw)
	}
	// Every other file is copied unchanged.
	for _, f := range []string{"clusters/local/apps.yaml", "apps/base/podinfo/deployment.yaml"} {
		a, _ := os.ReadFile(filepath.Join(repoRoot(t), "examples", "fleet", f))
		b, _ := os.ReadFile(filepath.Join(work, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs after the copy", f)
		}
	}
}

func ks(name string, generation, observed int64, status, message string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": name, "namespace": "flux-system", "generation": generation},
	}}
	if status != "" {
		obj.Object["status"] = map[string]any{
			"observedGeneration": observed,
			"conditions":         []any{map[string]any{"type": "Ready", "status": status, "message": message}},
		}
	}
	return obj
}

func TestSummarize(t *testing.T) {
	want := []string{"flux-system/apps", "flux-system/flux-system"}
	tests := []struct {
		name   string
		objs   []*unstructured.Unstructured
		line   string
		isDone bool
	}{
		{"nothing yet", nil, "waiting: 0/2 Kustomizations ready (apps: not created yet)", false},
		{"first reconciliation", []*unstructured.Unstructured{ks("flux-system", 1, 0, "", "")},
			"waiting: 0/2 Kustomizations ready (flux-system: waiting for its first reconciliation)", false},
		{"dependency", []*unstructured.Unstructured{
			ks("flux-system", 1, 1, "True", "Applied revision: main@sha1:abc"),
			ks("apps", 1, 1, "False", "dependency 'flux-system/infra-configs' is not ready"),
		}, "waiting: 1/2 Kustomizations ready (apps: dependency 'flux-system/infra-configs' is not ready)", false},
		{"stale generation", []*unstructured.Unstructured{
			ks("flux-system", 2, 1, "True", "Applied"), ks("apps", 1, 1, "True", "Applied"),
		}, "waiting: 1/2 Kustomizations ready (flux-system: Applied)", false},
		{"all ready", []*unstructured.Unstructured{
			ks("flux-system", 1, 1, "True", "Applied"), ks("apps", 3, 3, "True", "Applied"),
		}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var states []ksState
			for _, o := range tc.objs {
				states = append(states, readiness(o))
			}
			line, done := summarize(states, want)
			if line != tc.line || done != tc.isDone {
				t.Errorf("got %q %v, want %q %v", line, done, tc.line, tc.isDone)
			}
		})
	}
}

func TestFindRepoRootAndBinaries(t *testing.T) {
	root := repoRoot(t)
	if _, err := findRepoRoot(t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "--repo-root") {
		t.Errorf("a directory without the fleet was accepted: %v", err)
	}
	if got, err := findRepoRoot("", filepath.Join(root, "bin", "driftless-demo")); err != nil || got != root {
		t.Errorf("from the binary: %q %v", got, err)
	}
	bin := t.TempDir()
	exe := filepath.Join(bin, "driftless-demo")
	if err := os.WriteFile(filepath.Join(bin, "flux"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findBinary("flux", exe, t.TempDir()); err != nil || got != filepath.Join(bin, "flux") {
		t.Errorf("next to the demo: %q %v", got, err)
	}
	if _, err := findBinary("nothing-here", exe, t.TempDir()); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("missing binary: %v", err)
	}
}

func TestIndenter(t *testing.T) {
	var b bytes.Buffer
	w := &indenter{w: &b, prefix: "  │ "}
	_, _ = w.Write([]byte("► one\n✔ tw"))
	_, _ = w.Write([]byte("o\nthree"))
	w.flush()
	if got := b.String(); got != "  │ ► one\n  │ ✔ two\n  │ three\n" {
		t.Errorf("got %q", got)
	}
}

func TestBootstrapArgs(t *testing.T) {
	got := strings.Join(bootstrapArgs("/k", "http://127.0.0.1:1/fleet.git", "pw"), " ")
	want := "bootstrap git --kubeconfig=/k --url=http://127.0.0.1:1/fleet.git --branch=main --path=clusters/local --username=driftless --password=pw --allow-insecure-http --silent"
	if got != want {
		t.Errorf("got %s", got)
	}
}

func TestRunFailsClearly(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"examples/fleet", "config/crd/bases"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	err := Run(t.Context(), Options{
		DataDir: t.TempDir(), RepoRoot: root, Executable: filepath.Join(t.TempDir(), "driftless-demo"),
		ExitWhenReady: true, Out: &out,
	})
	if err == nil || !strings.Contains(err.Error(), "localcluster not found") || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("error %v, want a missing localcluster", err)
	}
	if !strings.Contains(out.String(), "✗ localcluster not found") {
		t.Errorf("no ✗ line:\n%s", out.String())
	}
}
