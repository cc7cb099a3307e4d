package cli

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/install"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// bootstrapNamespace is a fresh system namespace for one bootstrap. Before
// the namespace goes, the flux-system Kustomization is deleted with the
// Orphan policy: it applied the CRDs, which other tests need.
func bootstrapNamespace(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	t.Cleanup(func() {
		ctx := context.Background()
		key := client.ObjectKey{Namespace: ns, Name: ns}
		var ks kustomizev1.Kustomization
		if err := kube.Get(ctx, key, &ks); err == nil {
			patch := []byte(`{"spec":{"deletionPolicy":"Orphan","suspend":true}}`)
			if err := kube.Patch(ctx, &ks, client.RawPatch("application/merge-patch+json", patch)); err != nil {
				t.Errorf("orphan Kustomization %s: %v", key, err)
				return
			}
			_ = kube.Delete(ctx, &ks)
			_, _ = waitForGone(ctx, key)
		}
		sel := client.MatchingLabels{install.InstanceLabel: ns}
		_ = kube.DeleteAllOf(ctx, &rbacv1.ClusterRoleBinding{}, sel)
		_ = kube.DeleteAllOf(ctx, &rbacv1.ClusterRole{}, sel)
	})
	return ns
}

func waitForGone(ctx context.Context, key client.ObjectKey) (bool, error) {
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: kube.Scheme()})
	if err != nil {
		return false, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return true, waitGone(wctx, c, kinds.Kustomization(), key)
}

// remoteFile clones branch main of u and returns file name.
func remoteFile(t *testing.T, u string, auth *git.Auth, name string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := (&git.Client{}).Clone(context.Background(), dir, git.CloneOptions{URL: u, Reference: git.Reference{Branch: "main"}, Auth: auth}); err != nil {
		t.Fatalf("clone %s: %v", u, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("read %s from the repository: %v", name, err)
	}
	return string(data)
}

func secretData(t *testing.T, ns, name string) (map[string]string, string) {
	t.Helper()
	var s corev1.Secret
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatalf("get secret %s/%s: %v", ns, name, err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, s.ResourceVersion
}

func generations(t *testing.T, ns string) (int64, int64) {
	t.Helper()
	var repo sourcev1.GitRepository
	var ks kustomizev1.Kustomization
	key := client.ObjectKey{Namespace: ns, Name: ns}
	if err := kube.Get(context.Background(), key, &repo); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(context.Background(), key, &ks); err != nil {
		t.Fatal(err)
	}
	return repo.Generation, ks.Generation
}

func TestBootstrapGitHTTPEmptyRepositoryTwice(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	u := srv.RepoURL(repo.Name())
	args := []string{"bootstrap", "git", "-n", ns, "--timeout", "3m", "--url", u, "--allow-insecure-http",
		"-u", "git", "-p", "s3cret", "--path", "clusters/dev", "--author-email", "flux@example.com"}

	// --registry-creds is checked before anything is pushed.
	_, _, err := runFlux(t, "", append(args, "--registry-creds", "robot:pw")...)
	if err == nil || !strings.Contains(err.Error(), "--registry-creds requires --image-pull-secret") {
		t.Fatalf("--registry-creds without --image-pull-secret: %v", err)
	}
	if head := repo.Head("main"); head != "" {
		t.Fatalf("a refused bootstrap pushed %s", head)
	}
	args = append(args, "--image-pull-secret", "regcred", "--registry-creds", "robot:pw")

	_, stderr, err := runFlux(t, "", args...)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, stderr)
	}
	if pull, _ := secretData(t, ns, "regcred"); !strings.Contains(pull[".dockerconfigjson"], `"username":"robot"`) {
		t.Errorf("image pull secret = %v", pull)
	}
	for _, want := range []string{"committed component manifests", "committed sync manifests", "pushed manifests",
		"reconciled source secret", "Kustomization reconciled successfully", "✔ bootstrap finished"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("first run output lacks %q:\n%s", want, stderr)
		}
	}
	head := repo.Head("main")
	if head == "" {
		t.Fatal("branch main was not pushed")
	}
	auth, err := git.AuthFromSecret(bootstrapURL(t, u), map[string][]byte{"username": []byte("git"), "password": []byte("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	sync := remoteFile(t, u, auth, "clusters/dev/flux-system/gotk-sync.yaml")
	checkGolden(t, "bootstrap-gotk-sync.yaml", strings.ReplaceAll(strings.ReplaceAll(sync, u, "URL"), ns, "NAMESPACE"))
	if k := remoteFile(t, u, auth, "clusters/dev/flux-system/kustomization.yaml"); k != kustomizationYAML {
		t.Errorf("kustomization.yaml = %q", k)
	}
	if c := remoteFile(t, u, auth, "clusters/dev/flux-system/gotk-components.yaml"); !strings.Contains(c, "kind: CustomResourceDefinition") ||
		!strings.Contains(c, "namespace: "+ns) {
		t.Errorf("gotk-components.yaml lacks the CRDs or the namespace %s", ns)
	}
	data, secretVersion := secretData(t, ns, "flux-system")
	if data["username"] != "git" || data["password"] != "s3cret" {
		t.Errorf("source secret = %v", data)
	}
	repoGen, ksGen := generations(t, ns)

	_, stderr, err = runFlux(t, "", args...)
	if err != nil {
		t.Fatalf("second bootstrap: %v\n%s", err, stderr)
	}
	t.Logf("second run:\n%s", stderr)
	if got := repo.Head("main"); got != head {
		t.Errorf("second run moved main from %s to %s", head, got)
	}
	for _, want := range []string{"component manifests are up to date", "sync manifests are up to date",
		"source secret up to date", "✔ bootstrap finished"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("second run output lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "pushed manifests") || strings.Contains(stderr, "committed") {
		t.Errorf("second run committed or pushed:\n%s", stderr)
	}
	if _, v := secretData(t, ns, "flux-system"); v != secretVersion {
		t.Errorf("second run changed the secret (resourceVersion %s -> %s)", secretVersion, v)
	}
	if r, k := generations(t, ns); r != repoGen || k != ksGen {
		t.Errorf("second run changed the sync objects: generations %d/%d -> %d/%d", repoGen, ksGen, r, k)
	}
}

func TestBootstrapGitHTTPRepositoryWithContent(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	repo := gittest.NewRepo(t)
	base := repo.CommitFiles("main", map[string]string{"README.md": "# fleet\n"}, "initial")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	u := srv.RepoURL(repo.Name())
	_, stderr, err := runFlux(t, "", "bootstrap", "git", "-n", ns, "--timeout", "3m", "--url", u, "--allow-insecure-http",
		"-u", "git", "-p", "s3cret", "--path", "./clusters/staging/", "--commit-message-appendix", "[ci skip]")
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "cloned repository") {
		t.Errorf("output lacks the clone:\n%s", stderr)
	}
	auth, _ := git.AuthFromSecret(bootstrapURL(t, u), map[string][]byte{"username": []byte("git"), "password": []byte("s3cret")})
	dir := t.TempDir()
	c, err := (&git.Client{}).Clone(context.Background(), dir, git.CloneOptions{URL: u, Reference: git.Reference{Branch: "main"}, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject() != "Add Flux sync manifests" || !strings.Contains(c.Message, "[ci skip]") || c.Author.Name != "Flux" {
		t.Errorf("head commit %q by %s", c.Message, c.Author.Name)
	}
	if readme, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(readme) != "# fleet\n" {
		t.Errorf("README.md = %q", readme)
	}
	if sync, _ := os.ReadFile(filepath.Join(dir, "clusters/staging/flux-system/gotk-sync.yaml")); !strings.Contains(string(sync), "path: ./clusters/staging\n") {
		t.Errorf("gotk-sync.yaml path:\n%s", sync)
	}
	if out, err := runGit(repo.Dir(), "merge-base", "--is-ancestor", base, repo.Head("main")); err != nil {
		t.Errorf("the existing commit is not an ancestor of the bootstrap commits: %v %s", err, out)
	}
}

func TestBootstrapGitSSH(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	repo := gittest.NewRepo(t)
	key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Algorithm: "ecdsa"})
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{AuthorizedKeys: []string{key.AuthorizedKey}})
	keyFile := filepath.Join(t.TempDir(), "id_ecdsa")
	if err := os.WriteFile(keyFile, key.PrivateKey, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"bootstrap", "git", "-n", ns, "--timeout", "3m", "--url", srv.URL(repo.Name()),
		"--private-key-file", keyFile, "--path", "clusters/ssh", "--secret-name", "git-auth"}
	_, stderr, err := runFlux(t, "", args...)
	if err != nil {
		t.Fatalf("bootstrap over SSH: %v\n%s", err, stderr)
	}
	data, version := secretData(t, ns, "git-auth")
	if data["identity"] != string(key.PrivateKey) || strings.TrimSpace(data["identity.pub"]) != key.AuthorizedKey {
		t.Errorf("secret identity does not hold the key from --private-key-file")
	}
	if data["known_hosts"] != srv.KnownHosts()+"\n" {
		t.Errorf("known_hosts = %q, want %q", data["known_hosts"], srv.KnownHosts())
	}
	head := repo.Head("main")
	_, stderr, err = runFlux(t, "", args...)
	if err != nil {
		t.Fatalf("second bootstrap over SSH: %v\n%s", err, stderr)
	}
	if repo.Head("main") != head || !strings.Contains(stderr, "source secret up to date") {
		t.Errorf("second run over SSH was not a no-op:\n%s", stderr)
	}
	if _, v := secretData(t, ns, "git-auth"); v != version {
		t.Error("second run changed the secret")
	}
}

// A generated deploy key is printed and confirmed; the Git server does not
// know it, so the push is refused before anything is installed.
func TestBootstrapGitSSHGeneratedKey(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{AuthorizedKeys: []string{gittest.GenerateSSHKey(t).AuthorizedKey}})
	args := []string{"bootstrap", "git", "-n", ns, "--url", srv.URL(repo.Name()), "--ssh-key-algorithm", "ed25519"}

	_, stderr, err := runFlux(t, "n\n", args...)
	if !errors.Is(err, errBootstrapAborted) {
		t.Fatalf("answer n: err = %v", err)
	}
	if !strings.Contains(stderr, "public key: ssh-ed25519 ") || !strings.Contains(stderr, "Please give the key access") {
		t.Errorf("the deploy key was not shown:\n%s", stderr)
	}
	_, stderr, err = runFlux(t, "y\n", args...)
	if !errors.Is(err, git.ErrAuthentication) {
		t.Fatalf("unknown deploy key: err = %v\n%s", err, stderr)
	}
	assertNothingInstalled(t, ns)
}

func TestBootstrapGitBadInputs(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "right"})
	u := srv.RepoURL(repo.Name())
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no url", nil, "--url is required"},
		{"http without opt-in", []string{"--url", u, "-p", "right"}, "--allow-insecure-http"},
		{"unreachable", []string{"--url", "http://127.0.0.1:1/fleet.git", "--allow-insecure-http"}, "clone http://127.0.0.1:1/fleet.git"},
		{"wrong password", []string{"--url", u, "--allow-insecure-http", "-p", "wrong"}, "authentication failed"},
		{"path leaves the repository", []string{"--url", u, "--allow-insecure-http", "-p", "right", "--path", "clusters/../../etc"}, "must not contain '..'"},
		{"absolute path", []string{"--url", u, "--allow-insecure-http", "-p", "right", "--path", "/clusters"}, "must be relative"},
		{"unknown scheme", []string{"--url", "ftp://host/fleet.git"}, "not supported"},
		{"token auth over ssh", []string{"--url", "ssh://git@127.0.0.1/fleet.git", "--token-auth"}, "need an https:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bootstrap", "git", "-n", ns, "-s", "--timeout", "20s"}, tc.args...)
			_, stderr, err := runFlux(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q\n%s", err, tc.want, stderr)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if repo.Head("main") != "" {
		t.Error("a failed bootstrap pushed")
	}
	assertNothingInstalled(t, ns)
}

func assertNothingInstalled(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the controller Deployment exists after a failed bootstrap (err %v)", err)
	}
	err = kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "flux-system"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the source secret exists after a failed bootstrap (err %v)", err)
	}
}

func bootstrapURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func runGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
