package gitrepository_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func TestSameCommitSameDigest(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"a.yaml": "a", "dir/b.yaml": "b"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	ref := &sourcev1.GitRepositoryRef{Branch: "main"}
	one := controllertest.WaitReady(t, kube, create(t, ns, "one", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: ref}))
	two := controllertest.WaitReady(t, kube, create(t, ns, "two", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: ref}))
	if one.Status.Artifact.Digest != two.Status.Artifact.Digest {
		t.Errorf("same commit, different digests: %s and %s", one.Status.Artifact.Digest, two.Status.Artifact.Digest)
	}
	if !strings.HasPrefix(one.Status.Artifact.Digest, "sha256:") || *one.Status.Artifact.Size <= 0 {
		t.Errorf("artifact %+v", one.Status.Artifact)
	}
	if want := "gitrepository/" + ns + "/one/" + repo.Head("main") + ".tar.gz"; one.Status.Artifact.Path != want {
		t.Errorf("path %s, want %s", one.Status.Artifact.Path, want)
	}
}

// TestNewRevisionsAndCheapChecks follows a repository through new commits:
// unchanged upstream costs no clone, a new commit is stored and announced,
// and old artifacts are garbage-collected.
func TestNewRevisionsAndCheapChecks(t *testing.T) {
	repo := gittest.NewRepo(t)
	first := repo.CommitFiles("main", map[string]string{"v": "1"}, "one")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: &sourcev1.GitRepositoryRef{Branch: "main"}})
	got := controllertest.WaitReady(t, kube, obj)
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, first)

	srv.ResetRequests()
	controllertest.RequestReconcile(t, kube, obj, "unchanged")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "request handled", func(o *sourcev1.GitRepository) bool { return o.Status.LastHandledReconcileAt == "unchanged" })
	if n := srv.PackRequests(); n != 0 {
		t.Errorf("an unchanged upstream cost %d pack requests; want a remote check only", n)
	}

	var hashes []string
	for i, v := range []string{"2", "3", "4"} {
		hash := repo.CommitFiles("main", map[string]string{"v": v}, "commit "+v)
		hashes = append(hashes, hash)
		controllertest.RequestReconcile(t, kube, obj, "commit-"+v)
		got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "revision "+hash, func(o *sourcev1.GitRepository) bool {
			return o.Status.Artifact != nil && o.Status.Artifact.Revision == "main@sha1:"+hash && reconcile.IsTrue(o, meta.ReadyCondition)
		})
		if controllertest.ArtifactFiles(t, got.Status.Artifact)["v"] != v {
			t.Errorf("commit %d: content wrong", i)
		}
		controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, meta.SucceededReason, hash)
	}
	// Retention: at most 2 artifacts (--artifact-retention-records), the current one kept.
	dir := filepath.Join(storageDir, "gitrepository", ns, "app")
	testcluster.Eventually(t, 30*time.Second, "old artifacts collected", func() (bool, error) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return false, err
		}
		var tarballs []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tar.gz") {
				tarballs = append(tarballs, e.Name())
			}
		}
		current := hashes[len(hashes)-1] + ".tar.gz"
		return len(tarballs) <= 2 && contains(tarballs, current) && !contains(tarballs, first+".tar.gz"), nil
	})
}

func TestSuspendResumeAndDeletion(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"v": "1"}, "one")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	obj := create(t, ns, "app", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: &sourcev1.GitRepositoryRef{Branch: "main"}})
	controllertest.WaitReady(t, kube, obj)

	controllertest.Update(t, kube, obj, func(o *sourcev1.GitRepository) { o.Spec.Suspend = true })
	second := repo.CommitFiles("main", map[string]string{"v": "2"}, "two")
	controllertest.RequestReconcile(t, kube, obj, "while-suspended")
	controllertest.Update(t, kube, obj, func(o *sourcev1.GitRepository) { o.Spec.Suspend = false })
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "new revision after resume", func(o *sourcev1.GitRepository) bool {
		return o.Status.Artifact.Revision == "main@sha1:"+second && o.Status.LastHandledReconcileAt == "while-suspended"
	})

	dir := filepath.Join(storageDir, "gitrepository", ns, "app")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("storage directory missing before deletion: %v", err)
	}
	if err := kube.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 30*time.Second, "object gone", func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), &sourcev1.GitRepository{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("storage of a deleted GitRepository not removed: %v", err)
	}
}

// TestBadInputKeepsThePreviousArtifact breaks a working GitRepository in
// several ways: each gives Ready=False with Flux's reason and a message that
// says what is wrong, and the last good artifact stays in status and served.
func TestBadInputKeepsThePreviousArtifact(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"v": "1"}, "one")
	repo.Tag("v1.0.0", repo.Head("main"), true)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	good := sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}

	cases := []struct {
		name    string
		break_  func(*sourcev1.GitRepositorySpec)
		reason  string
		text    string
		stalled bool
	}{
		{"missing-branch", func(s *sourcev1.GitRepositorySpec) { s.Reference = &sourcev1.GitRepositoryRef{Branch: "nope"} },
			sourcev1.GitOperationFailedReason, "nope", false},
		{"missing-tag", func(s *sourcev1.GitRepositorySpec) { s.Reference = &sourcev1.GitRepositoryRef{Tag: "v9.9.9"} },
			sourcev1.GitOperationFailedReason, "v9.9.9", false},
		{"semver-no-match", func(s *sourcev1.GitRepositorySpec) { s.Reference = &sourcev1.GitRepositoryRef{SemVer: ">=5.0.0"} },
			sourcev1.GitOperationFailedReason, ">=5.0.0", false},
		{"unreachable-host", func(s *sourcev1.GitRepositorySpec) { s.URL = "http://127.0.0.1:1/nothing.git" },
			sourcev1.GitOperationFailedReason, "127.0.0.1:1", false},
		{"url-without-path", func(s *sourcev1.GitRepositorySpec) { s.URL = "https://example.com" },
			sourcev1.URLInvalidReason, "no repository path", true},
		{"malformed-semver", func(s *sourcev1.GitRepositorySpec) { s.Reference = &sourcev1.GitRepositoryRef{SemVer: "not a range"} },
			sourcev1.GitOperationFailedReason, "not a range", true},
		{"missing-secret", func(s *sourcev1.GitRepositorySpec) { s.SecretRef = &meta.LocalObjectReference{Name: "absent"} },
			sourcev1.AuthenticationFailedReason, "absent", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := create(t, ns, tc.name, good)
			before := controllertest.WaitReady(t, kube, obj).Status.Artifact
			controllertest.Update(t, kube, obj, func(o *sourcev1.GitRepository) { tc.break_(&o.Spec) })
			got := controllertest.WaitNotReady(t, kube, obj, tc.reason)
			ready := reconcile.Get(got, meta.ReadyCondition)
			if !strings.Contains(ready.Message, tc.text) {
				t.Errorf("Ready message %q does not mention %q", ready.Message, tc.text)
			}
			if stalled := reconcile.IsTrue(got, meta.StalledCondition); stalled != tc.stalled {
				t.Errorf("Stalled=%v, want %v (%s)", stalled, tc.stalled, controllertest.Describe(got))
			}
			if got.Status.Artifact == nil || got.Status.Artifact.Digest != before.Digest {
				t.Fatalf("the previous artifact was dropped: %+v", got.Status.Artifact)
			}
			if !served(t, got.Status.Artifact) {
				t.Error("the previous artifact is no longer served")
			}
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, tc.reason, tc.text)
		})
	}
}

func TestServerOutageAndRecovery(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"v": "1"}, "one")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	timeout := metav1.Duration{Duration: 2 * time.Second}
	obj := create(t, ns, "app", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Timeout: &timeout,
		Reference: &sourcev1.GitRepositoryRef{Branch: "main"}})
	before := controllertest.WaitReady(t, kube, obj).Status.Artifact

	srv.Stop()
	second := repo.CommitFiles("main", map[string]string{"v": "2"}, "two")
	controllertest.RequestReconcile(t, kube, obj, "down")
	down := controllertest.WaitNotReady(t, kube, obj, sourcev1.GitOperationFailedReason)
	if down.Status.Artifact.Digest != before.Digest || !served(t, down.Status.Artifact) {
		t.Error("the last artifact must stay stored and served while the server is down")
	}

	srv.Start()
	srv.SetHang(true)
	controllertest.RequestReconcile(t, kube, obj, "hanging")
	hung := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "a timeout", func(o *sourcev1.GitRepository) bool {
		c := reconcile.Get(o, sourcev1.FetchFailedCondition)
		return o.Status.LastHandledReconcileAt == "hanging" && c != nil && strings.Contains(c.Message, "timed out")
	})
	if hung.Status.Artifact.Digest != before.Digest {
		t.Error("a timeout replaced the artifact")
	}
	srv.SetHang(false)
	// Recovery needs no request: the back-off retries on its own.
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "recovered at the new revision", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.Artifact.Revision == "main@sha1:"+second &&
			reconcile.Get(o, sourcev1.FetchFailedCondition) == nil
	})
}

func TestSymlinksNeverLeaveTheRepository(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"app.yaml": "app"}, "init")
	repo.CommitSymlink("main", "passwd", "/etc/passwd", "absolute link out")
	repo.CommitSymlink("main", "up", "../../../../../../etc", "relative link out")
	repo.CommitSymlink("main", "inside", "app.yaml", "link inside")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	got := controllertest.WaitReady(t, kube, create(t, ns, "links", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}))
	content := controllertest.ArtifactFiles(t, got.Status.Artifact)
	for name, body := range content {
		if strings.Contains(body, "root:") {
			t.Errorf("%s carries content from outside the repository", name)
		}
	}
	if _, ok := content["passwd"]; ok {
		t.Error("a symlink to /etc/passwd was archived")
	}
	if content["app.yaml"] != "app" {
		t.Errorf("regular files must stay: %v", names(content))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestOversizedRepositoryIsRefused commits more than --artifact-max-size:
// the artifact is refused with a clear message, nothing partial is left in
// storage, and the previous artifact stays.
func TestOversizedRepositoryIsRefused(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"small.yaml": "small"}, "small")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	obj := create(t, ns, "big", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: &sourcev1.GitRepositoryRef{Branch: "main"}})
	before := controllertest.WaitReady(t, kube, obj).Status.Artifact

	big := strings.Repeat("0123456789abcdef", (maxArtifactSize/16)+1024)
	repo.CommitFiles("main", map[string]string{"huge.bin.yaml": big}, "too big")
	controllertest.RequestReconcile(t, kube, obj, "big")
	got := controllertest.WaitNotReady(t, kube, obj, sourcev1.ArchiveOperationFailedReason)
	if c := reconcile.Get(got, sourcev1.StorageOperationFailedCondition); c == nil || !strings.Contains(c.Message, "limit") {
		t.Errorf("StorageOperationFailed should say a limit was passed: %+v", c)
	}
	if got.Status.Artifact.Digest != before.Digest || !served(t, got.Status.Artifact) {
		t.Error("the previous artifact must stay")
	}
	entries, err := os.ReadDir(filepath.Join(storageDir, "gitrepository", ns, "big"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if info, _ := e.Info(); info != nil && info.Size() > maxArtifactSize {
			t.Errorf("%s (%d bytes) left in storage", e.Name(), info.Size())
		}
	}
}
