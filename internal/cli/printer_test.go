package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/name, which -update rewrites.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

var (
	portRE       = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	serverSetRE  = regexp.MustCompile(`(?m)^(\s*-?\s*"?(?:uid|resourceVersion|creationTimestamp|lastTransitionTime|lastUpdateTime|lastHandledReconcileAt|firstReconciled|lastReconciled|lastReconciledDuration)"?: ).+$`)
	hexSuffixLen = 6
	// A Kustomization's success event says how long the run took.
	tookRE = regexp.MustCompile(`finished in [^,\n]+,`)
)

// normalise makes output stable across runs: the random suffix of the test
// namespace (kept the same width, so tables stay aligned), server ports and
// the values the API server sets.
func normalise(s, ns string) string {
	s = strings.ReplaceAll(s, ns, ns[:len(ns)-hexSuffixLen]+strings.Repeat("x", hexSuffixLen))
	s = portRE.ReplaceAllString(s, "127.0.0.1:PORT")
	s = tookRE.ReplaceAllString(s, "finished in <duration>,")
	return serverSetRE.ReplaceAllString(s, "${1}X")
}

// readFixture makes, in a fresh namespace, a Git repository with two
// ConfigMaps, the GitRepository "repo" and the Kustomization "app" that
// applies them, all labelled fixture=<namespace>, and waits until both are
// Ready. The source is Ready before the Kustomization exists, so the events
// each gets do not depend on timing.
func readFixture(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha}\ndata: {k: a}\n",
		"deploy/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: beta}\ndata: {k: b}\n",
	}, "two configmaps")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	labels := map[string]string{"fixture": ns}
	gr := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns, Labels: labels},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if err := kube.Create(context.Background(), gr); err != nil {
		t.Fatal(err)
	}
	waitReadyObject(t, &sourcev1.GitRepository{}, ns, "repo")
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns, Labels: labels},
		Spec: kustomizev1.KustomizationSpec{
			Interval: metav1.Duration{Duration: time.Hour}, Prune: true, Path: "./deploy", TargetNamespace: ns,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
		},
	}
	if err := kube.Create(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	waitReadyObject(t, &kustomizev1.Kustomization{}, ns, "app")
	return ns
}

// waitReadyObject waits until obj ns/name is Ready.
func waitReadyObject(t *testing.T, obj meta.Object, ns, name string) {
	t.Helper()
	conditioned := obj.(meta.Conditioned)
	testcluster.Eventually(t, 90*time.Second, name+" Ready", func() (bool, error) {
		if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return false, err
		}
		c := reconcile.Get(conditioned, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionTrue, nil
	})
}
