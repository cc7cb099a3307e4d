package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// statsFixture is readFixture's namespace (a Ready GitRepository with an
// artifact and a Ready Kustomization) plus a suspended GitRepository and
// one that fails.
func statsFixture(t *testing.T) (ns string, repoSize int64) {
	t.Helper()
	ns = readFixture(t)
	ctx := context.Background()
	for _, gr := range []*sourcev1.GitRepository{
		{ObjectMeta: metav1.ObjectMeta{Name: "paused", Namespace: ns},
			Spec: sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/paused.git", Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}},
		{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: ns},
			Spec: sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/broken.git", Interval: metav1.Duration{Duration: time.Hour}}},
	} {
		if err := kube.Create(ctx, gr); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.Eventually(t, 90*time.Second, "broken not Ready", func() (bool, error) {
		var gr sourcev1.GitRepository
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "broken"}, &gr); err != nil {
			return false, err
		}
		for _, c := range gr.Status.Conditions {
			if c.Type == meta.ReadyCondition && c.Status == metav1.ConditionFalse && c.ObservedGeneration == gr.Generation {
				return true, nil
			}
		}
		return false, nil
	})
	var repo sourcev1.GitRepository
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "repo"}, &repo); err != nil {
		t.Fatal(err)
	}
	if repo.Status.Artifact == nil || repo.Status.Artifact.Size == nil || *repo.Status.Artifact.Size == 0 {
		t.Fatalf("repo has no artifact size: %+v", repo.Status.Artifact)
	}
	return ns, *repo.Status.Artifact.Size
}

func TestStats(t *testing.T) {
	ns, size := statsFixture(t)
	out, errOut, err := runFlux(t, "", "stats", "-n", ns)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var want bytes.Buffer
	tw := newTabWriter(&want)
	writeRow(tw, "RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE")
	storage := fmt.Sprintf("%d B", size) // Flux writes bytes below 1 KiB
	if size >= 1024 {
		storage = fmt.Sprintf("%.1f KiB", float64(size)/1024)
	}
	// Every kind of the catalogue has its row, as Flux's stats have, with
	// or without objects.
	writeRow(tw, "OCIRepository", "0", "0", "0", "-")
	writeRow(tw, "GitRepository", "2", "1", "1", storage)
	writeRow(tw, "Bucket", "0", "0", "0", "-")
	writeRow(tw, "HelmRepository", "0", "0", "0", "-")
	writeRow(tw, "HelmChart", "0", "0", "0", "-")
	writeRow(tw, "ExternalArtifact", "0", "0", "0", "-")
	writeRow(tw, "ArtifactGenerator", "0", "0", "0", "-")
	writeRow(tw, "Kustomization", "1", "0", "0", "-")
	writeRow(tw, "HelmRelease", "0", "0", "0", "-")
	writeRow(tw, "Provider", "0", "0", "0", "-")
	writeRow(tw, "Alert", "0", "0", "0", "-")
	writeRow(tw, "Receiver", "0", "0", "0", "-")
	writeRow(tw, "ImageRepository", "0", "0", "0", "-")
	writeRow(tw, "ImagePolicy", "0", "0", "0", "-")
	writeRow(tw, "ImageUpdateAutomation", "0", "0", "0", "-")
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if size >= 1024*1024 {
		t.Fatalf("the fixture's artifact is %d bytes: the expected table assumes less than 1 MiB", size)
	}
	if out != want.String() {
		t.Errorf("flux stats:\n%s\nwant:\n%s", out, want.String())
	}

	// -A counts every namespace: at least this one's objects.
	all, _, err := runFlux(t, "", "stats", "-A")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(all), "\n")
	if len(lines) != len(kinds.All())+1 || !strings.HasPrefix(lines[0], "RECONCILERS") || !strings.HasPrefix(lines[2], "GitRepository") {
		t.Fatalf("flux stats -A:\n%s", all)
	}
	var running, failing, suspended int
	if _, err := fmt.Sscanf(strings.TrimPrefix(lines[2], "GitRepository"), "%d %d %d", &running, &failing, &suspended); err != nil {
		t.Fatalf("flux stats -A row %q: %v", lines[2], err)
	}
	if running < 2 || failing < 1 || suspended < 1 {
		t.Errorf("flux stats -A counts fewer GitRepositories than one namespace has:\n%s", all)
	}
	if _, _, err := runFlux(t, "", "stats", "extra"); err == nil {
		t.Error("flux stats extra: want an error, got success")
	}
}

func TestFormatStorage(t *testing.T) {
	for b, want := range map[int64]string{0: "-", 512: "512 B", 1023: "1023 B", 1536: "1.5 KiB",
		3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := formatStorage(b); got != want {
			t.Errorf("formatStorage(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestGetSourcesAll(t *testing.T) {
	ns, _ := statsFixture(t)
	out, errOut, err := runFlux(t, "", "get", "sources", "all", "-n", ns)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("flux get sources all: want a header and three GitRepositories:\n%s", out)
	}
	for i, name := range []string{"broken", "paused", "repo"} {
		if !strings.HasPrefix(lines[i+1], "gitrepository/"+name+" ") {
			t.Errorf("row %d: want gitrepository/%s, got %q", i+1, name, lines[i+1])
		}
	}
	if strings.Contains(out, "kustomization/") {
		t.Errorf("flux get sources all lists a Kustomization:\n%s", out)
	}
	names, _, err := runFlux(t, "", "get", "sources", "all", "-n", ns, "-o", "name", "--status-selector", "ready=false")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(names) != "gitrepository.source.toolkit.fluxcd.io/broken\ngitrepository.source.toolkit.fluxcd.io/paused" {
		t.Errorf("-o name --status-selector ready=false:\n%s", names)
	}
	if _, _, err := runFlux(t, "", "get", "sources", "all", "-n", ns, "-w"); err == nil || !strings.Contains(err.Error(), "flux get sources git -w") {
		t.Errorf("get sources all -w: want an error naming the per-kind watch, got %v", err)
	}
	_, errOut, err = runFlux(t, "", "get", "sources", "all", "-n", env.Namespace(t))
	if err != nil || !strings.Contains(errOut, "no sources found") {
		t.Errorf("empty namespace: want a note on stderr and success, got %v, %q", err, errOut)
	}
}

// TestGetSourcesAllSkipsKindsNotInstalled: a source kind whose CRD the
// cluster does not serve is left out without a word, as Flux does.
func TestGetSourcesAllSkipsKindsNotInstalled(t *testing.T) {
	ns := readFixture(t)
	missing := kinds.Kind{
		GroupVersionKind: schema.GroupVersionKind{Group: "missing.example.com", Version: "v1", Kind: "MissingSource"},
		Command:          kinds.Command{Group: "source", Name: "missing", Plural: "missing"},
		NewList: func() kinds.List {
			l := &unstructured.UnstructuredList{}
			l.SetAPIVersion("missing.example.com/v1")
			l.SetKind("MissingSourceList")
			return l
		},
	}
	sources := func() []kinds.Kind { return append([]kinds.Kind{missing}, catalogueSourceKinds()...) }
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	kc := env.Kubeconfig()
	f.Kube.KubeConfig = &kc
	ns2 := ns
	f.Kube.Namespace = &ns2
	cmd := newGetSourcesAllCommand(f, &getOptions{printFlags: printFlags{output: outputTable}}, sources)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "gitrepository/repo") || errOut.Len() > 0 {
		t.Errorf("want the GitRepository table and nothing on stderr, got:\n%s\nstderr: %s", out.String(), errOut.String())
	}
}
