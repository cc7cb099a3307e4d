package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// runEventsPinned runs flux events with every age written as <age>.
func runEventsPinned(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut strings.Builder
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	root := &cobra.Command{Use: "flux", SilenceUsage: true, SilenceErrors: true}
	f.Kube.AddFlags(root.PersistentFlags())
	root.AddCommand(newEventsCommandWith(f, &eventsOptions{age: func(time.Time) string { return "<age>" }}))
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig(), "events"}, args...))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// recordEvent writes a core/v1 Event about kind/name as a controller would.
func recordEvent(t *testing.T, ns, name, apiVersion, kind, obj, typ, reason, msg string) {
	t.Helper()
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind, Name: obj, Namespace: ns},
		Type:           typ, Reason: reason, Message: msg, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "test"},
	}
	if err := kube.Create(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

func TestEvents(t *testing.T) {
	ns := readFixture(t)
	// The controllers record their events after the status says Ready:
	// wait for them, so that the events written below come after them.
	testcluster.Eventually(t, 30*time.Second, "the controllers' events", func() (bool, error) {
		var list corev1.EventList
		if err := kube.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, e := range list.Items {
			seen[e.InvolvedObject.Kind+"/"+e.Reason] = true
		}
		return seen["GitRepository/Succeeded"] && seen["Kustomization/Progressing"] && seen["Kustomization/ReconciliationSucceeded"], nil
	})
	// Another source's failure, and an event about an object that is not Flux's.
	recordEvent(t, ns, "other.1", "source.toolkit.fluxcd.io/v1", "GitRepository", "other",
		corev1.EventTypeWarning, "GitOperationFailed", "failed to checkout and determine revision")
	recordEvent(t, ns, "cm.1", "v1", "ConfigMap", "alpha", corev1.EventTypeNormal, "Touched", "not a Flux object")

	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"events/all.txt", nil},
		{"events/for-kustomization.txt", []string{"--for", "Kustomization/app"}},
		{"events/for-source.txt", []string{"--for", "GitRepository/other"}},
		{"events/warnings.txt", []string{"--types", "Warning"}},
		{"events/normal-and-warning.txt", []string{"--types", "Normal,Warning"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, err := runEventsPinned(t, append([]string{"-n", ns}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
			}
			checkGolden(t, tc.golden, normalise(out, ns))
		})
	}

	// The real command: real ages, and every namespace with -A.
	out, _ := mustFlux(t, "", "events", "-A")
	if !strings.HasPrefix(out, "NAMESPACE ") {
		t.Errorf("events -A does not start with a NAMESPACE column:\n%s", out)
	}
	wantLines(t, out, ns, "GitRepository/other", "Kustomization/app")
	if strings.Contains(out, "ConfigMap/alpha") {
		t.Errorf("events -A shows an event of a ConfigMap:\n%s", out)
	}

	// A suspended Kustomization (no controller events) whose source lives
	// in another namespace: --for shows the source's events from there.
	srcNS := env.Namespace(t)
	cross := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "cross", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Path: "./", Suspend: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "remote", Namespace: srcNS}},
	}
	if err := kube.Create(context.Background(), cross); err != nil {
		t.Fatal(err)
	}
	recordEvent(t, srcNS, "remote.1", "source.toolkit.fluxcd.io/v1", "GitRepository", "remote",
		corev1.EventTypeNormal, "NewArtifact", "stored artifact in the other namespace")
	out, _ = mustFlux(t, "", "-n", ns, "events", "--for", "Kustomization/cross")
	wantLines(t, out, "GitRepository/remote", "stored artifact in the other namespace")
	if strings.Contains(out, "Kustomization/app") {
		t.Errorf("--for Kustomization/cross shows the events of another Kustomization:\n%s", out)
	}

	// Nothing matches: a message on stderr, no table.
	empty := env.Namespace(t)
	out, errOut := mustFlux(t, "", "events", "-n", empty)
	if out != "" || !strings.Contains(errOut, "no events found in \""+empty+"\" namespace") {
		t.Errorf("events in an empty namespace: out %q, err %q", out, errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--types", "Error"}, `unknown event type "Error" in --types`},
		{[]string{"--for", "app"}, "use Kind/name"},
		{[]string{"--for", "Kustomization/nope"}, `Kustomization "nope" not found in namespace "` + ns + `"`},
		{[]string{"--for", "Kustomization/app", "-A"}, "drop -A or --for"},
	} {
		if _, _, err := runFlux(t, "", append([]string{"-n", ns, "events"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error containing %q, got %v", tc.args, tc.want, err)
		}
	}
}

// TestEventsWatch lists, prints an event recorded while it watches, skips
// one that does not match, and returns without error when its context ends.
func TestEventsWatch(t *testing.T) {
	ns := env.Namespace(t)
	var out syncBuffer
	f := NewFactory(strings.NewReader(""), &out, &out)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs([]string{"--kubeconfig", env.Kubeconfig(), "-n", ns, "events", "-w", "--types", "Warning"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	testcluster.Eventually(t, 30*time.Second, "the header", func() (bool, error) {
		return strings.Contains(out.String(), "LAST SEEN"), nil
	})
	recordEvent(t, ns, "ks.1", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "app",
		corev1.EventTypeNormal, "ReconciliationSucceeded", "skipped: Normal")
	recordEvent(t, ns, "ks.2", "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "app",
		corev1.EventTypeWarning, "BuildFailed", "kustomization path not found")
	testcluster.Eventually(t, 30*time.Second, "a line for the new event", func() (bool, error) {
		return strings.Contains(out.String(), "kustomization path not found"), nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch ended with %v, want no error when its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not return after its context ended")
	}
	got := out.String()
	if strings.Contains(got, "skipped: Normal") {
		t.Errorf("--types Warning printed a Normal event:\n%s", got)
	}
	wantLines(t, got, "Warning", "BuildFailed", "Kustomization/app")
}
