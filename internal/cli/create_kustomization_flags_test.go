package cli

import (
	"strings"
	"testing"
)

// TestCreateKustomizationKubeConfigAndValidation covers
// --kubeconfig-secret-ref (spec.kubeConfig.secretRef) and the deprecated
// --validation, which is accepted with Flux's warning and changes nothing.
func TestCreateKustomizationKubeConfigAndValidation(t *testing.T) {
	out, stderr, err := runFlux(t, "", "create", "kustomization", "podinfo", "-n", "flux-system", "--source=podinfo",
		"--path=./deploy", "--kubeconfig-secret-ref=prod-kubeconfig", "--validation=client", "--export")
	if err != nil {
		t.Fatal(err)
	}
	compareCLIGolden(t, "create/kustomization-kubeconfig.yaml", out)
	want := "Flag --validation has been deprecated, this arg is no longer used, all resources are validated using server-side apply dry-run\n"
	if stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
	_, _, err = runFlux(t, "", "create", "kustomization", "podinfo", "--source=podinfo", "--kubeconfig-secret-ref=Bad_Name", "--export")
	if err == nil || !strings.Contains(err.Error(), `invalid --kubeconfig-secret-ref "Bad_Name"`) {
		t.Fatalf("bad --kubeconfig-secret-ref: %v", err)
	}
}
