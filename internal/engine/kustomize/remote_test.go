package kustomize

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// TestRemoteGitBase builds a kustomization whose base lives in a real Git
// repository served over HTTP on 127.0.0.1: allowed, kustomize clones it
// into its temporary directory, which the confined filesystem lets it read
// (and remove); refused under NoRemoteBases, the server sees no request.
func TestRemoteGitBase(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required by this test (apt-get install git)")
	}
	repo := gittest.NewRepo(t)
	repo.CommitFiles(gittest.DefaultBranch, map[string]string{
		"base/kustomization.yaml": kustomization("resources:\n  - cm.yaml\n"),
		"base/cm.yaml":            cmA,
	}, "base")
	server := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ref := server.RepoURL(repo.Name()) + "//base?ref=" + gittest.DefaultBranch
	root := writeTree(t, map[string]string{"app/kustomization.yaml": kustomization("resources:\n  - " + ref + "\n  - local.yaml\n"),
		"app/local.yaml": cmB})

	_, err := Build(context.Background(), root, Options{Path: "app", NoRemoteBases: true})
	if !errors.Is(err, ErrRemoteRefused) || !strings.Contains(err.Error(), ref) {
		t.Fatalf("error = %v, want the remote base refused by name", err)
	}
	if n := len(server.Requests()); n != 0 {
		t.Fatalf("the git server received %d requests for a refused base", n)
	}

	before := kustomizeClones(t)
	res, err := Build(context.Background(), root, Options{Path: "app"})
	if err != nil {
		t.Fatalf("Build with remote bases allowed: %v", err)
	}
	if len(res.Objects) != 2 || res.Objects[0].GetName() != "a" || res.Objects[1].GetName() != "b" {
		t.Fatalf("got %d objects: %s", len(res.Objects), res.Manifests)
	}
	if len(server.Requests()) == 0 {
		t.Fatal("the git server received no request")
	}
	if after := kustomizeClones(t); after > before {
		t.Fatalf("kustomize left %d clone directories behind", after-before)
	}
}

// kustomizeClones counts kustomize's clone directories in the temporary
// directory.
func kustomizeClones(t *testing.T) int {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(os.TempDir(), "kustomize-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(matches)
}

// TestRemoteHTTPResource builds a kustomization with a resource fetched
// over HTTP from 127.0.0.1, allowed and refused.
func TestRemoteHTTPResource(t *testing.T) {
	var hits atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(cmA))
	}))
	t.Cleanup(server.Close)
	root := writeTree(t, map[string]string{"kustomization.yaml": kustomization("resources:\n  - " + server.URL + "/cm.yaml\n")})

	if _, err := Build(context.Background(), root, Options{NoRemoteBases: true}); !errors.Is(err, ErrRemoteRefused) {
		t.Fatalf("error = %v, want ErrRemoteRefused", err)
	}
	if hits.Load() != 0 {
		t.Fatal("a refused resource was fetched")
	}
	res, err := Build(context.Background(), root, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(res.Objects) != 1 || hits.Load() == 0 {
		t.Fatalf("got %d objects after %d requests", len(res.Objects), hits.Load())
	}
}
