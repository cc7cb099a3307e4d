package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// TestSuspendResumeSeveral suspends and resumes several Kustomizations
// named on one command line; resume waits for each of them.
func TestSuspendResumeSeveral(t *testing.T) {
	ctx := context.Background()
	ns := readFixture(t)
	for _, name := range []string{"b", "c"} {
		ks := &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: kustomizev1.KustomizationSpec{
				Interval: metav1.Duration{Duration: time.Hour}, Prune: true, Path: "./deploy", TargetNamespace: ns,
				NamePrefix: name + "-",
				SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
			},
		}
		if err := kube.Create(ctx, ks); err != nil {
			t.Fatal(err)
		}
		waitReadyObject(t, &kustomizev1.Kustomization{}, ns, name)
	}
	names := []string{"app", "b", "c"}
	suspended := func(name string) bool {
		var ks kustomizev1.Kustomization
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ks); err != nil {
			t.Fatal(err)
		}
		return ks.Spec.Suspend
	}

	_, errOut := mustFlux(t, "", append([]string{"suspend", "ks", "-n", ns}, names...)...)
	for _, name := range names {
		wantLines(t, errOut, "► suspending kustomization "+name+" in "+ns+" namespace")
		if !suspended(name) {
			t.Errorf("%s is not suspended", name)
		}
	}
	if got := strings.Count(errOut, "✔ kustomization suspended"); got != 3 {
		t.Errorf("want 3 suspended lines, got %d:\n%s", got, errOut)
	}

	// A name that does not exist fails before anything changes.
	_, _, err := runFlux(t, "", "resume", "ks", "-n", ns, "app", "nothere", "--timeout=1m")
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), ns+"/nothere not found") {
		t.Fatalf("resume with a missing name: want an error naming it, got %v", err)
	}
	if !suspended("app") {
		t.Error("app was resumed although the command failed")
	}

	_, errOut = mustFlux(t, "", append([]string{"resume", "ks", "-n", ns, "--timeout=2m"}, names...)...)
	for _, name := range names {
		wantLines(t, errOut, "► resuming kustomization "+name+" in "+ns+" namespace",
			"◎ waiting for Kustomization "+ns+"/"+name+" reconciliation",
			"✔ Kustomization "+ns+"/"+name+" reconciliation completed")
		if suspended(name) {
			t.Errorf("%s is still suspended", name)
		}
	}
	if got := strings.Count(errOut, "✔ applied revision main@sha1:"); got != 3 {
		t.Errorf("want 3 revision lines, got %d:\n%s", got, errOut)
	}
}
