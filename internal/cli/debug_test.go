package cli

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// TestDebugKustomization prints the status, the history and the final
// substitution variables of a Kustomization the controller reconciled.
func TestDebugKustomization(t *testing.T) {
	ctx := context.Background()
	ns := readFixture(t)
	live := &kustomizev1.Kustomization{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, live); err != nil {
		t.Fatal(err)
	}

	out := mustFluxOut(t, "debug", "kustomization", "app", "-n", ns, "--show-status")
	var status kustomizev1.KustomizationStatus
	if err := yaml.UnmarshalStrict([]byte(out), &status); err != nil {
		t.Fatalf("--show-status is not the status as YAML: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(status, live.Status) {
		t.Errorf("--show-status differs from the live status:\n%s", out)
	}

	out = mustFluxOut(t, "debug", "ks", "app", "-n", ns, "--show-history")
	var history []kustomizev1.Snapshot
	if err := yaml.UnmarshalStrict([]byte(out), &history); err != nil {
		t.Fatalf("--show-history is not the history as YAML: %v\n%s", err, out)
	}
	if len(history) != 1 || !reflect.DeepEqual(history, live.Status.History) ||
		history[0].Metadata["revision"] != live.Status.LastAppliedRevision || !strings.HasPrefix(history[0].Digest, "sha256:") {
		t.Errorf("--show-history: want the one snapshot of the live status, got\n%s", out)
	}

	// --show-vars: substitute over substituteFrom, later over earlier,
	// optional missing skipped, line breaks removed, sorted.
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns},
			Data: map[string]string{"region": "us", "tier": "web", "zone": "a"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "secret-vars", Namespace: ns},
			StringData: map[string]string{"tier": "db", "token": "s3cret\n"}},
	}
	for _, o := range objs {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	patch := client.MergeFrom(live.DeepCopy())
	live.Spec.Suspend = true
	live.Spec.PostBuild = &kustomizev1.PostBuild{
		Substitute: map[string]string{"cluster": "prod", "region": "eu"},
		SubstituteFrom: []kustomizev1.SubstituteReference{
			{Kind: "ConfigMap", Name: "vars"},
			{Kind: "ConfigMap", Name: "absent", Optional: true},
			{Kind: "Secret", Name: "secret-vars"},
		},
	}
	if err := kube.Patch(ctx, live, patch); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "debug/kustomization-vars.env", mustFluxOut(t, "debug", "ks", "app", "-n", ns, "--show-vars"))

	patch = client.MergeFrom(live.DeepCopy())
	live.Spec.PostBuild.SubstituteFrom[1].Optional = false
	if err := kube.Patch(ctx, live, patch); err != nil {
		t.Fatal(err)
	}
	_, _, err := runFlux(t, "", "debug", "ks", "app", "-n", ns, "--show-vars")
	if err == nil || !strings.Contains(err.Error(), "ConfigMap '"+ns+"/absent'") {
		t.Errorf("a required missing ConfigMap: want an error naming it, got %v", err)
	}

	for _, args := range [][]string{{"--show-vars", "--show-status"}, {}} {
		_, _, err := runFlux(t, "", append([]string{"debug", "ks", "app", "-n", ns}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "exactly one of --show-status, --show-vars or --show-history") {
			t.Errorf("debug ks %v: want an error asking for one flag, got %v", args, err)
		}
	}
	if _, _, err := runFlux(t, "", "debug", "ks", "nothere", "-n", ns, "--show-status"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing Kustomization: want not found, got %v", err)
	}
}

func mustFluxOut(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := mustFlux(t, "", args...)
	return out
}
