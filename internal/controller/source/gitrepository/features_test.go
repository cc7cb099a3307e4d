package gitrepository_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

func TestIgnoreRules(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"deploy/app.yaml":          "kind: ConfigMap",
		"deploy/notes.md":          "notes",
		"docs/guide.md":            "guide",
		"logo.png":                 "png",
		".github/workflows/ci.yml": "ci",
		"scripts/.sourceignore":    "*.sh\n",
		"scripts/build.sh":         "echo",
		"scripts/keep.py":          "print()",
	}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ref := &sourcev1.GitRepositoryRef{Branch: "main"}
	ns := env.Namespace(t)

	defaults := controllertest.WaitReady(t, kube, create(t, ns, "defaults", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: ref}))
	got := names(controllertest.ArtifactFiles(t, defaults.Status.Artifact))
	// .sourceignore files replace Flux's default exclusions, except the VCS ones.
	want := []string{".github/workflows/ci.yml", "deploy/app.yaml", "deploy/notes.md", "docs/guide.md", "logo.png", "scripts/.sourceignore", "scripts/keep.py"}
	if !slices.Equal(got, want) {
		t.Errorf("with a .sourceignore file:\n got %v\nwant %v", got, want)
	}

	ignore := "/docs/\n*.md\n"
	spec := controllertest.WaitReady(t, kube, create(t, ns, "spec-ignore", sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Reference: ref, Ignore: &ignore}))
	got = names(controllertest.ArtifactFiles(t, spec.Status.Artifact))
	for _, gone := range []string{"docs/guide.md", "deploy/notes.md", "scripts/build.sh"} {
		if slices.Contains(got, gone) {
			t.Errorf("spec.ignore: %s should be excluded, got %v", gone, got)
		}
	}
	if !slices.Contains(got, "deploy/app.yaml") {
		t.Errorf("spec.ignore: deploy/app.yaml missing from %v", got)
	}
	if spec.Status.ObservedIgnore == nil || *spec.Status.ObservedIgnore != ignore {
		t.Errorf("observedIgnore = %v", spec.Status.ObservedIgnore)
	}

	// Without any .sourceignore, Flux's default exclusions apply.
	plain := gittest.NewRepo(t)
	plain.CommitFiles("main", map[string]string{"app.yaml": "a", "logo.png": "png", ".github/ci.yml": "ci", "archive.zip": "zip"}, "init")
	srv2 := gittest.NewHTTPServer(t, plain.Root(), gittest.HTTPOptions{})
	def := controllertest.WaitReady(t, kube, create(t, ns, "flux-defaults", sourcev1.GitRepositorySpec{URL: srv2.RepoURL(plain.Name()), Reference: ref}))
	if got := names(controllertest.ArtifactFiles(t, def.Status.Artifact)); !slices.Equal(got, []string{"app.yaml"}) {
		t.Errorf("default exclusions: got %v, want [app.yaml]", got)
	}
}

func TestInclude(t *testing.T) {
	ns := env.Namespace(t)
	lib := gittest.NewRepo(t)
	lib.CommitFiles("main", map[string]string{"base/deploy.yaml": "lib v1", "README.txt": "lib"}, "lib")
	app := gittest.NewRepo(t)
	app.CommitFiles("main", map[string]string{"app.yaml": "app"}, "app")
	libSrv := gittest.NewHTTPServer(t, lib.Root(), gittest.HTTPOptions{})
	appSrv := gittest.NewHTTPServer(t, app.Root(), gittest.HTTPOptions{})
	ref := &sourcev1.GitRepositoryRef{Branch: "main"}

	// The includer exists before the included repository: it waits, then
	// reconciles when the included artifact appears.
	obj := create(t, ns, "app", sourcev1.GitRepositorySpec{URL: appSrv.RepoURL(app.Name()), Reference: ref,
		Include: []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "lib"}, FromPath: "base", ToPath: "vendor/lib"}}})
	waiting := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "IncludeUnavailable", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, sourcev1.IncludeUnavailableCondition)
	})
	if c := reconcile.Get(waiting, meta.ReadyCondition); c == nil || c.Status != "False" || !strings.Contains(c.Message, "lib") {
		t.Errorf("Ready should name the missing include: %+v", c)
	}
	create(t, ns, "lib", sourcev1.GitRepositorySpec{URL: libSrv.RepoURL(lib.Name()), Reference: ref})
	got := controllertest.WaitReady(t, kube, obj)
	content := controllertest.ArtifactFiles(t, got.Status.Artifact)
	if content["vendor/lib/deploy.yaml"] != "lib v1" || content["app.yaml"] != "app" {
		t.Errorf("included content wrong: %v", content)
	}
	if _, ok := content["vendor/lib/README.txt"]; ok {
		t.Error("only fromPath should be copied")
	}
	if len(got.Status.IncludedArtifacts) != 1 || reconcile.Get(got, sourcev1.IncludeUnavailableCondition) != nil {
		t.Errorf("includedArtifacts %v; conditions %s", got.Status.IncludedArtifacts, controllertest.Describe(got))
	}

	// A new commit in the included repository flows into the includer.
	lib.CommitFiles("main", map[string]string{"base/deploy.yaml": "lib v2"}, "lib v2")
	controllertest.RequestReconcile(t, kube, &sourcev1.GitRepository{ObjectMeta: got.ObjectMeta}, "lib-v2")
	libObj := &sourcev1.GitRepository{}
	libObj.Name, libObj.Namespace = "lib", ns
	controllertest.RequestReconcile(t, kube, libObj, "lib-v2")
	updated := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "includer rebuilt with lib v2", func(o *sourcev1.GitRepository) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Digest != got.Status.Artifact.Digest
	})
	if controllertest.ArtifactFiles(t, updated.Status.Artifact)["vendor/lib/deploy.yaml"] != "lib v2" {
		t.Error("includer did not pick up the included repository's new artifact")
	}
}

func TestSubmodulesAndSparseCheckout(t *testing.T) {
	ns := env.Namespace(t)
	sub := gittest.NewRepoAt(t, t.TempDir(), "sub")
	subHash := sub.CommitFiles("master", map[string]string{"lib.yaml": "from submodule"}, "sub")
	parent := gittest.NewRepoAt(t, sub.Root(), "parent")
	parent.CommitFiles("main", map[string]string{"apps/a.yaml": "a", "infra/b.yaml": "b"}, "parent")
	srv := gittest.NewHTTPServer(t, sub.Root(), gittest.HTTPOptions{AllowReachableSHA1InWant: true})
	parent.AddSubmodule("main", "vendor/sub", srv.RepoURL("sub"), subHash, "add submodule")
	ref := &sourcev1.GitRepositoryRef{Branch: "main"}

	with := controllertest.WaitReady(t, kube, create(t, ns, "with-submodules", sourcev1.GitRepositorySpec{URL: srv.RepoURL("parent"), Reference: ref, RecurseSubmodules: true}))
	if controllertest.ArtifactFiles(t, with.Status.Artifact)["vendor/sub/lib.yaml"] != "from submodule" {
		t.Errorf("submodule content missing: %v", names(controllertest.ArtifactFiles(t, with.Status.Artifact)))
	}
	if !with.Status.ObservedRecurseSubmodules {
		t.Error("observedRecurseSubmodules not set")
	}
	without := controllertest.WaitReady(t, kube, create(t, ns, "without-submodules", sourcev1.GitRepositorySpec{URL: srv.RepoURL("parent"), Reference: ref}))
	if _, ok := controllertest.ArtifactFiles(t, without.Status.Artifact)["vendor/sub/lib.yaml"]; ok {
		t.Error("submodule checked out without recurseSubmodules")
	}

	sparse := controllertest.WaitReady(t, kube, create(t, ns, "sparse", sourcev1.GitRepositorySpec{URL: srv.RepoURL("parent"), Reference: ref, SparseCheckout: []string{"apps"}}))
	if got := names(controllertest.ArtifactFiles(t, sparse.Status.Artifact)); !slices.Equal(got, []string{"apps/a.yaml"}) {
		t.Errorf("sparse checkout: got %v, want [apps/a.yaml]", got)
	}
	if !slices.Equal(sparse.Status.ObservedSparseCheckout, []string{"apps"}) {
		t.Errorf("observedSparseCheckout = %v", sparse.Status.ObservedSparseCheckout)
	}
}

func TestVerification(t *testing.T) {
	ns := env.Namespace(t)
	trusted := gittest.GeneratePGPKey(t, "Release Bot", "bot@example.com")
	sshKey := gittest.GenerateSSHKey(t)
	untrusted := gittest.GeneratePGPKey(t, "Mallory", "mallory@example.com")
	repo := gittest.NewRepo(t)
	repo.CommitSigned("pgp", map[string]string{"a": "1"}, "signed with pgp", gittest.SignWith{PGP: trusted})
	repo.CommitSigned("ssh", map[string]string{"a": "2"}, "signed with ssh", gittest.SignWith{SSH: sshKey})
	evil := repo.CommitSigned("evil", map[string]string{"a": "3"}, "signed by someone else", gittest.SignWith{PGP: untrusted})
	repo.CommitFiles("unsigned", map[string]string{"a": "4"}, "not signed")
	tagged := repo.CommitFiles("release", map[string]string{"a": "5"}, "release")
	repo.TagSigned("v1.0.0", tagged, "release v1.0.0", gittest.SignWith{SSH: sshKey})
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	keys := secret(t, ns, "keys", map[string][]byte{"bot.asc": trusted.PublicKey, "ci.sshpub": []byte(sshKey.AuthorizedKey)})
	url := srv.RepoURL(repo.Name())

	for _, branch := range []string{"pgp", "ssh"} {
		obj := create(t, ns, "verified-"+branch, sourcev1.GitRepositorySpec{URL: url, Reference: &sourcev1.GitRepositoryRef{Branch: branch},
			Verification: &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitHEAD, SecretRef: *keys}})
		got := controllertest.WaitReady(t, kube, obj)
		c := reconcile.Get(got, sourcev1.SourceVerifiedCondition)
		if c == nil || c.Status != "True" || !strings.Contains(c.Message, "verified signature of") {
			t.Errorf("%s: SourceVerified = %+v", branch, c)
		}
		if got.Status.SourceVerificationMode == nil || *got.Status.SourceVerificationMode != sourcev1.ModeGitHEAD {
			t.Errorf("%s: sourceVerificationMode = %v", branch, got.Status.SourceVerificationMode)
		}
	}

	tag := controllertest.WaitReady(t, kube, create(t, ns, "verified-tag", sourcev1.GitRepositorySpec{URL: url, Reference: &sourcev1.GitRepositoryRef{Tag: "v1.0.0"},
		Verification: &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitTag, SecretRef: *keys}}))
	if c := reconcile.Get(tag, sourcev1.SourceVerifiedCondition); c == nil || !strings.Contains(c.Message, "tag 'v1.0.0'") {
		t.Errorf("tag verification: %+v", c)
	}

	for _, tc := range []struct{ branch, reason, text string }{
		{"evil", sourcev1.InvalidCommitSignatureReason, "signature verification of commit '" + evil + "' failed"},
		{"unsigned", sourcev1.InvalidCommitSignatureReason, "not signed"},
	} {
		obj := create(t, ns, "rejected-"+tc.branch, sourcev1.GitRepositorySpec{URL: url, Reference: &sourcev1.GitRepositoryRef{Branch: tc.branch},
			Verification: &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitHEAD, SecretRef: *keys}})
		got := controllertest.WaitNotReady(t, kube, obj, tc.reason)
		if c := reconcile.Get(got, sourcev1.SourceVerifiedCondition); c == nil || c.Status != "False" || !strings.Contains(c.Message, tc.text) {
			t.Errorf("%s: SourceVerified = %+v, want False mentioning %q", tc.branch, c, tc.text)
		}
		if got.Status.Artifact != nil {
			t.Errorf("%s: an unverified commit must not be stored", tc.branch)
		}
		controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, tc.reason, "failed")
	}
}
