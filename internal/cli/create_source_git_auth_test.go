package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// runFluxIO runs the command line with the given stdin, writing stderr to
// errOut, so that a test can answer a prompt from what was printed.
func runFluxIO(t *testing.T, in io.Reader, errOut *bytes.Buffer, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	f := NewFactory(in, &out, errOut)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig()}, args...))
	err := root.Execute()
	return out.String(), err
}

// deployKeyAdder answers the deploy key prompt as a user does: it adds the
// printed public key to the server's authorized keys, then says yes.
type deployKeyAdder struct {
	t      *testing.T
	stderr *bytes.Buffer
	srv    *gittest.SSHServer
	added  string
	done   bool
}

func (d *deployKeyAdder) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	d.done = true
	_, rest, ok := strings.Cut(d.stderr.String(), "✚ deploy key: ")
	if !ok {
		d.t.Errorf("asked before the deploy key was printed:\n%s", d.stderr.String())
		return copy(p, "n\n"), nil
	}
	d.added, _, _ = strings.Cut(rest, "\n")
	if err := d.srv.Authorize(d.added); err != nil {
		d.t.Error(err)
	}
	return copy(p, "y\n"), nil
}

// gitRepoWithCommit is a repository with one commit on main.
func gitRepoWithCommit(t *testing.T) *gittest.Repo {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"}, "initial")
	return repo
}

func getSourceAndSecret(t *testing.T, ns, name string) (*sourcev1.GitRepository, *corev1.Secret) {
	t.Helper()
	ctx := context.Background()
	var repo sourcev1.GitRepository
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &repo); err != nil {
		t.Fatal(err)
	}
	var secret corev1.Secret
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &secret); err != nil {
		t.Fatal(err)
	}
	return &repo, &secret
}

// TestCreateSourceGitSSHDeployKey creates a source for an SSH URL without
// credentials: a key pair is generated, the host key scanned, the deploy
// key printed and confirmed, the Secret created and referenced, and the
// source becomes ready once the key was added to the server.
func TestCreateSourceGitSSHDeployKey(t *testing.T) {
	ns := env.Namespace(t)
	repo := gitRepoWithCommit(t)
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{})
	var stderr bytes.Buffer
	answer := &deployKeyAdder{t: t, stderr: &stderr, srv: srv}
	_, err := runFluxIO(t, answer, &stderr, "create", "source", "git", "app", "-n", ns, "--url="+srv.URL(repo.Name()), "--branch=main")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"✔ collected public key from SSH server:\n" + srv.KnownHosts() + "\n",
		"✚ deploy key: ecdsa-sha2-nistp384 ",
		"Have you added the deploy key to your repository? [y/N]",
		"► applying secret with repository credentials",
		"✔ authentication configured",
		"✔ GitRepository app is ready",
		"main@sha1:" + repo.Head("main"),
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	src, secret := getSourceAndSecret(t, ns, "app")
	if src.Spec.SecretRef == nil || src.Spec.SecretRef.Name != "app" {
		t.Fatalf("secretRef %v", src.Spec.SecretRef)
	}
	if strings.TrimSpace(string(secret.Data["identity.pub"])) != answer.added || string(secret.Data["known_hosts"]) != srv.KnownHosts() ||
		len(secret.Data["identity"]) == 0 || len(secret.Labels) != 0 {
		t.Fatalf("secret %v %v", secret.Labels, secret.Data)
	}
}

// TestCreateSourceGitSSHDeclined answers no to the prompt: nothing is created.
func TestCreateSourceGitSSHDeclined(t *testing.T) {
	ns := env.Namespace(t)
	repo := gitRepoWithCommit(t)
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{})
	_, stderr, err := runFlux(t, "n\n", "create", "source", "git", "app", "-n", ns, "--url="+srv.URL(repo.Name()),
		"--branch=main", "--ssh-key-algorithm=ed25519")
	if err == nil || !strings.Contains(err.Error(), "aborting") {
		t.Fatalf("want aborting, got %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "✚ deploy key: ssh-ed25519 ") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	assertNotCreated(t, ns, "app")
}

func assertNotCreated(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	key := client.ObjectKey{Namespace: ns, Name: name}
	if err := kube.Get(ctx, key, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("secret %s: %v", key, err)
	}
	if err := kube.Get(ctx, key, &sourcev1.GitRepository{}); !apierrors.IsNotFound(err) {
		t.Errorf("GitRepository %s: %v", key, err)
	}
}

// TestCreateSourceGitSSHPrivateKeyFile uses a passphrase-protected key the
// server knows, without a prompt (--silent).
func TestCreateSourceGitSSHPrivateKeyFile(t *testing.T) {
	ns := env.Namespace(t)
	repo := gitRepoWithCommit(t)
	key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "pw"})
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{AuthorizedKeys: []string{key.AuthorizedKey}})
	file := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(file, key.PrivateKey, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := writeTemp(t, "id_bad", "not a key\n")
	args := []string{"create", "source", "git", "app", "-n", ns, "--url=" + srv.URL(repo.Name()), "--branch=main", "-s"}
	_, _, err := runFlux(t, "", append(args, "--private-key-file="+bad)...)
	if err == nil || !strings.Contains(err.Error(), "--private-key-file "+bad+": parse private key") {
		t.Fatalf("a key file that does not parse: %v", err)
	}
	assertNotCreated(t, ns, "app")

	_, stderr, err := runFlux(t, "", append(args, "--private-key-file="+file, "--password=pw")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "[y/N]") || !strings.Contains(stderr, "✚ deploy key: "+key.AuthorizedKey) {
		t.Fatalf("stderr:\n%s", stderr)
	}
	_, secret := getSourceAndSecret(t, ns, "app")
	if string(secret.Data["identity"]) != string(key.PrivateKey) || string(secret.Data["password"]) != "pw" {
		t.Fatalf("secret %v", secret.Data)
	}
}

// TestCreateSourceGitBasicAuth stores -u/-p in a Secret named after the
// source, which becomes ready against a server requiring them.
func TestCreateSourceGitBasicAuth(t *testing.T) {
	ns := env.Namespace(t)
	repo := gitRepoWithCommit(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	_, stderr, err := runFlux(t, "", "create", "source", "git", "app", "-n", ns, "--url="+srv.RepoURL(repo.Name()),
		"--branch=main", "-u", "git", "-p", "s3cret")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"⚠️ insecure configuration: credentials configured for an HTTP URL",
		"✔ authentication configured", "✔ GitRepository app is ready"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	src, secret := getSourceAndSecret(t, ns, "app")
	if src.Spec.SecretRef == nil || string(secret.Data["username"]) != "git" || string(secret.Data["password"]) != "s3cret" || len(secret.Data) != 2 {
		t.Fatalf("secretRef %v, secret %v", src.Spec.SecretRef, secret.Data)
	}
}

func TestCreateSourceGitAuthExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/source-git-azure.yaml", []string{"podinfo", "--url=https://dev.azure.com/org/project/_git/podinfo", "--branch=main",
			"--provider=azure", "--proxy-secret-ref=proxy", "--sparse-checkout-paths=deploy/base,deploy/prod"}},
		{"create/source-git-github-app.yaml", []string{"podinfo", "--url=https://github.com/stefanprodan/podinfo", "--branch=master",
			"--provider=github", "--secret-ref=podinfo-app"}},
		// --export creates no Secret, so no key is generated and no host scanned.
		{"create/source-git-ssh-export.yaml", []string{"podinfo", "--url=ssh://git@127.0.0.1:1/podinfo", "--branch=master", "--provider=generic"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runFlux(t, "", append([]string{"create", "source", "git", "-n", "flux-system", "--export"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			compareCLIGolden(t, tc.golden, out)
		})
	}
}

func TestCreateSourceGitAuthBadFlags(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--url=https://h/r", "--provider=gitlab"}, `Git provider "gitlab" in --provider is not supported`},
		{[]string{"--url=https://h/r", "--provider=github"}, "give --secret-ref"},
		{[]string{"--url=ssh://git@h/r", "--provider=azure"}, "--provider=azure needs an https:// --url"},
		{[]string{"--url=https://h/r", "--provider=azure", "-u", "u", "-p", "p"}, "--username cannot be used with --provider=azure"},
		{[]string{"--url=https://h/r", "--secret-ref=auth", "-p", "p"}, "--password cannot be combined with --secret-ref"},
		{[]string{"--url=ssh://git@h/r", "--ca-file=" + testCA}, "specifying a CA file is not supported for Git over SSH"},
		{[]string{"--url=ssh://git@h/r", "-u", "git"}, "--username is not used with ssh:// URLs"},
		{[]string{"--url=https://h/r", "--private-key-file=/id"}, "--private-key-file is only used with ssh:// URLs"},
		{[]string{"--url=http://h/r", "--ca-file=" + testCA}, "--ca-file needs an https:// --url"},
		{[]string{"--url=https://h/r", "-u", "git"}, "--username and --password must be given together"},
		{[]string{"--url=https://h/r", "--ca-file=/nonexistent"}, "read --ca-file"},
		{[]string{"--url=https://h/r", "--ca-file=" + testClientKey}, "--ca-file " + testClientKey + ": no PEM certificate found"},
		{[]string{"--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=dsa"}, "unsupported --ssh-key-algorithm"},
		{[]string{"--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=rsa", "--ssh-rsa-bits=100"}, "--ssh-rsa-bits"},
		{[]string{"--url=ssh://git@127.0.0.1:1/r"}, "is the host reachable"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"create", "source", "git", "bad", "-n", ns, "--branch=main"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
			assertNotCreated(t, ns, "bad")
		})
	}
}
