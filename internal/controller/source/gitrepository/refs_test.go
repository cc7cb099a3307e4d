package gitrepository_test

import (
	"testing"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// TestEveryRefKind checks that each spec.ref selects the right commit and
// reports Flux's revision for it, with commit > name > semver > tag > branch.
func TestEveryRefKind(t *testing.T) {
	repo := gittest.NewRepo(t)
	master := repo.CommitFiles("master", map[string]string{"which": "master"}, "on master")
	main := repo.CommitFiles("main", map[string]string{"which": "main"}, "on main")
	v100 := repo.CommitFiles("main", map[string]string{"which": "v1.0.0"}, "release 1.0.0")
	repo.Tag("v1.0.0", v100, false)
	v120 := repo.CommitFiles("main", map[string]string{"which": "v1.2.0"}, "release 1.2.0")
	repo.Tag("v1.2.0", v120, true)
	v200 := repo.CommitFiles("main", map[string]string{"which": "v2.0.0"}, "release 2.0.0")
	repo.Tag("v2.0.0", v200, true)
	pr := repo.CommitFiles("feature", map[string]string{"which": "pull request"}, "a pull request")
	repo.SetRef("refs/pull/1/head", pr)
	head := repo.Head("main")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{AllowReachableSHA1InWant: true})

	cases := []struct {
		name     string
		ref      *sourcev1.GitRepositoryRef
		revision string
		content  string
	}{
		{"default-branch", nil, "master@sha1:" + master, "master"},
		{"branch", &sourcev1.GitRepositoryRef{Branch: "main"}, "main@sha1:" + head, "v2.0.0"},
		{"lightweight-tag", &sourcev1.GitRepositoryRef{Tag: "v1.0.0"}, "v1.0.0@sha1:" + v100, "v1.0.0"},
		{"annotated-tag", &sourcev1.GitRepositoryRef{Tag: "v1.2.0"}, "v1.2.0@sha1:" + v120, "v1.2.0"},
		{"semver", &sourcev1.GitRepositoryRef{SemVer: ">=1.0.0 <2.0.0"}, "v1.2.0@sha1:" + v120, "v1.2.0"},
		{"semver-over-tag", &sourcev1.GitRepositoryRef{SemVer: "1.0.x", Tag: "v2.0.0"}, "v1.0.0@sha1:" + v100, "v1.0.0"},
		{"name", &sourcev1.GitRepositoryRef{Name: "refs/pull/1/head"}, "refs/pull/1/head@sha1:" + pr, "pull request"},
		{"name-over-branch", &sourcev1.GitRepositoryRef{Name: "refs/tags/v2.0.0", Branch: "master"}, "refs/tags/v2.0.0@sha1:" + v200, "v2.0.0"},
		{"commit", &sourcev1.GitRepositoryRef{Commit: main}, "sha1:" + main, "main"},
		{"commit-on-branch", &sourcev1.GitRepositoryRef{Commit: v100, Branch: "main"}, "main@sha1:" + v100, "v1.0.0"},
	}
	ns := env.Namespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: tc.ref})
			got := controllertest.WaitReady(t, kube, obj)
			a := got.Status.Artifact
			if a.Revision != tc.revision {
				t.Errorf("revision %s, want %s", a.Revision, tc.revision)
			}
			if content := controllertest.ArtifactFiles(t, a)["which"]; content != tc.content {
				t.Errorf("checked out %q, want %q", content, tc.content)
			}
			if want := "stored artifact for revision '" + tc.revision + "'"; got.Status.Conditions != nil {
				for _, c := range got.Status.Conditions {
					if c.Type == "Ready" && c.Message != want {
						t.Errorf("Ready message %q, want %q", c.Message, want)
					}
				}
			}
		})
	}
}
