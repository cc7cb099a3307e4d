package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// writeBuildDir writes a directory with a ConfigMap using variables and a
// real SOPS-encrypted Secret, and returns it.
func writeBuildDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	secret, err := os.ReadFile(filepath.Join("..", "engine", "sops", "testdata", "encrypted", "secret-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n" +
			"  cluster: ${cluster}\n  region: ${region:=eu}\n  tier: ${tier:=web}\n",
		"secret.yaml": string(secret),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func buildSpec(ns string) kustomizev1.KustomizationSpec {
	return kustomizev1.KustomizationSpec{
		Interval: metav1.Duration{Duration: time.Hour}, Path: "./deploy", TargetNamespace: ns, Suspend: true,
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
		PostBuild: &kustomizev1.PostBuild{
			Substitute: map[string]string{"cluster": "prod"},
			SubstituteFrom: []kustomizev1.SubstituteReference{
				{Kind: "ConfigMap", Name: "vars"}, {Kind: "Secret", Name: "absent", Optional: true}},
		},
	}
}

// TestBuildKustomizationCluster builds with the spec and the substituteFrom
// data of a Kustomization in the cluster.
func TestBuildKustomizationCluster(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	vars := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns},
		Data: map[string]string{"region": "us", "cluster": "overridden-by-substitute"}}
	if err := kube.Create(ctx, vars); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, Spec: buildSpec(ns)}
	if err := kube.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	dir := writeBuildDir(t)

	out, errOut, err := runFlux(t, "", "-n", ns, "build", "kustomization", "app", "--path", dir)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, errOut)
	}
	checkGolden(t, "build/kustomization-cluster.yaml", normalise(out, ns))
	for _, want := range []string{"cluster: prod", "region: us", "password: KipTT1BTKio=", "kustomize.toolkit.fluxcd.io/name: app"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ENC[") || strings.Contains(out, "sops:") {
		t.Errorf("build output shows SOPS ciphertext:\n%s", out)
	}

	// Strict substitution fails on a variable that substituteFrom lacks.
	patch := client.MergeFrom(ks.DeepCopy())
	ks.Spec.PostBuild.Substitute = nil
	if err := kube.Patch(ctx, ks, patch); err != nil {
		t.Fatal(err)
	}
	vars.Data = map[string]string{"region": "us"}
	if err := kube.Update(ctx, vars); err != nil {
		t.Fatal(err)
	}
	_, _, err = runFlux(t, "", "-n", ns, "build", "kustomization", "app", "--path", dir, "--strict-substitute")
	if err == nil || !strings.Contains(err.Error(), "cluster") {
		t.Errorf("build --strict-substitute: want an error naming the variable cluster, got %v", err)
	}

	_, _, err = runFlux(t, "", "-n", ns, "build", "kustomization", "nothere", "--path", dir)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("build of a missing Kustomization: want not found, got %v", err)
	}
}

// TestBuildKustomizationDryRun builds from a Kustomization file without
// touching the cluster: substituteFrom is not read.
func TestBuildKustomizationDryRun(t *testing.T) {
	dir := writeBuildDir(t)
	ks := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: other\n---\n" +
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\n" +
		"spec:\n  interval: 1h\n  path: ./deploy\n  targetNamespace: apps\n  sourceRef: {kind: GitRepository, name: repo}\n" +
		"  postBuild:\n    substitute: {cluster: dev}\n    substituteFrom: [{kind: ConfigMap, name: vars}]\n"
	file := filepath.Join(t.TempDir(), "ks.yaml")
	if err := os.WriteFile(file, []byte(ks), 0o644); err != nil {
		t.Fatal(err)
	}
	// An unreachable server proves that --dry-run does not connect.
	args := []string{"--server", "https://127.0.0.1:1", "build", "kustomization", "app", "--path", dir,
		"--kustomization-file", file, "--dry-run"}
	out, errOut, err := runFlux(t, "", args...)
	if err != nil {
		t.Fatalf("build --dry-run: %v\n%s", err, errOut)
	}
	checkGolden(t, "build/kustomization-dry-run.yaml", out)

	if _, _, err := runFlux(t, "", "build", "kustomization", "app", "--path", dir, "--dry-run"); err == nil ||
		!strings.Contains(err.Error(), "--kustomization-file") {
		t.Errorf("--dry-run without a file: want an error asking for --kustomization-file, got %v", err)
	}
	if _, _, err := runFlux(t, "", "build", "kustomization", "app", "--path", filepath.Join(dir, "nope"),
		"--kustomization-file", file, "--dry-run"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("missing --path: want an error, got %v", err)
	}
}
