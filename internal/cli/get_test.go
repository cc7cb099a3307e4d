package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestGetOutputs runs flux get in every output format against reconciled
// objects and compares the results with golden files.
func TestGetOutputs(t *testing.T) {
	ns := readFixture(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"get/sources-git.txt", []string{"get", "sources", "git"}},
		{"get/sources-git-named.txt", []string{"get", "source", "git", "repo"}},
		{"get/kustomizations.txt", []string{"get", "kustomizations"}},
		{"get/ks-alias.txt", []string{"get", "ks"}},
		{"get/kustomization-named.txt", []string{"get", "kustomization", "app"}},
		{"get/all.txt", []string{"get", "all"}},
		{"get/all-wide.txt", []string{"get", "all", "-o", "wide"}},
		{"get/all-no-header.txt", []string{"get", "all", "--no-header"}},
		{"get/all-namespaces.txt", []string{"get", "all", "-A", "-l", "fixture=" + ns}},
		{"get/ks-label-selector.txt", []string{"get", "ks", "--label-selector", "fixture=" + ns}},
		{"get/ready-true.txt", []string{"get", "all", "--status-selector", "ready=true"}},
		{"get/sources-git-named.yaml", []string{"get", "sources", "git", "repo", "-o", "yaml"}},
		{"get/all-name.txt", []string{"get", "all", "-o", "name"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
			}
			checkGolden(t, tc.golden, normalise(out, ns))
		})
	}
}

func TestGetJSONAndFilters(t *testing.T) {
	ns := readFixture(t)
	out, _, err := runFlux(t, "", "-n", ns, "get", "all", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Kind     string `json:"kind"`
			Metadata struct{ Name string }
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if list.Kind != "List" || len(list.Items) != 2 || list.Items[0].Kind != "GitRepository" || list.Items[1].Kind != "Kustomization" {
		t.Errorf("-o json: want a List of the GitRepository and the Kustomization, got %s", out)
	}

	// Nothing is Ready=False: no table, and a message on stderr.
	out, errOut, err := runFlux(t, "", "-n", ns, "get", "ks", "--status-selector", "ready=false")
	if err != nil || out != "" || !strings.Contains(errOut, "no Kustomization objects found") {
		t.Errorf("--status-selector ready=false: out %q, err %q, %v", out, errOut, err)
	}
	out, _, err = runFlux(t, "", "-n", ns, "get", "sources", "git", "-l", "fixture=other")
	if err != nil || out != "" {
		t.Errorf("-l matching nothing: out %q, %v", out, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "sources", "git", "nope"}, `GitRepository "nope" not found in namespace "` + ns + `"`},
		{[]string{"get", "ks", "nope"}, `Kustomization "nope" not found in namespace "` + ns + `"`},
		{[]string{"get", "ks", "app", "-A"}, "across all namespaces"},
		{[]string{"get", "ks", "-o", "xml"}, `unknown output format "xml"`},
		{[]string{"get", "ks", "--status-selector", "ready"}, "use <condition>=<status>"},
		{[]string{"get", "ks", "-l", "a=(b"}, "invalid --selector"},
		{[]string{"get", "all", "-w"}, "--watch needs one kind"},
	} {
		if _, _, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error containing %q, got %v", tc.args, tc.want, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestGetWatch lists, sees a change made while it watches, and returns
// without an error when its context ends.
func TestGetWatch(t *testing.T) {
	ns := readFixture(t)
	var out syncBuffer
	f := NewFactory(strings.NewReader(""), &out, &out)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs([]string{"--kubeconfig", env.Kubeconfig(), "-n", ns, "get", "sources", "git", "repo", "-w"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	testcluster.Eventually(t, 30*time.Second, "the first table", func() (bool, error) {
		return strings.Contains(out.String(), "NAME"), nil
	})
	gr := &sourcev1.GitRepository{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "repo"}, gr); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(gr.DeepCopy())
	gr.Spec.Suspend = true
	if err := kube.Patch(ctx, gr, patch); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 30*time.Second, "a line for the change", func() (bool, error) {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		return len(lines) >= 3 && strings.Contains(lines[len(lines)-1], "True"), nil
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
	if !strings.HasPrefix(out.String(), "NAME ") {
		t.Errorf("watch output does not start with the table header:\n%s", out.String())
	}
}
