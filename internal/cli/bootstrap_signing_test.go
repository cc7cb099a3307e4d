package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/signature"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// bootstrap signs both of its commits with --ssh-signing-key-file (a
// protected key), and --sparse-checkout reaches the GitRepository, which
// still reconciles.
func TestBootstrapSSHSignedSparse(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"infrastructure/README.md": "infra\n", "apps/README.md": "apps\n"}, "layout")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Algorithm: "ed25519", Passphrase: "sign-pw"})
	keyFile := filepath.Join(t.TempDir(), "signing")
	if err := os.WriteFile(keyFile, key.PrivateKey, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runFlux(t, "", "bootstrap", "git", "-n", ns, "--timeout", "3m", "--url", srv.RepoURL(repo.Name()),
		"--allow-insecure-http", "-u", "git", "-p", "s3cret", "--path", "clusters/dev",
		"--ssh-signing-key-file", keyFile, "--ssh-signing-password", "sign-pw", "--sparse-checkout", "clusters,infrastructure")
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, stderr)
	}
	ring, err := signature.KeyRingFromSecret(map[string][]byte{"flux" + signature.SSHKeySuffix: []byte(key.AuthorizedKey)})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := gogit.PlainOpen(repo.Dir())
	if err != nil {
		t.Fatal(err)
	}
	hash := plumbing.NewHash(repo.Head("main"))
	for n := 0; n < 2; n++ {
		c, err := bare.CommitObject(hash)
		if err != nil {
			t.Fatal(err)
		}
		enc := &plumbing.MemoryObject{}
		if err := c.EncodeWithoutSignature(enc); err != nil {
			t.Fatal(err)
		}
		rd, _ := enc.Reader()
		payload, _ := io.ReadAll(rd)
		if _, err := ring.Verify(payload, c.PGPSignature); err != nil {
			t.Errorf("commit %q: %v", c.Message, err)
		}
		if len(c.ParentHashes) > 0 {
			hash = c.ParentHashes[0]
		}
	}
	var gr sourcev1.GitRepository
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ns}, &gr); err != nil {
		t.Fatal(err)
	}
	if want := []string{"clusters", "infrastructure"}; !reflect.DeepEqual(gr.Spec.SparseCheckout, want) {
		t.Errorf("spec.sparseCheckout = %v, want %v", gr.Spec.SparseCheckout, want)
	}
}

func TestBootstrapSigningBadInput(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "pw"})
	keyFile := filepath.Join(t.TempDir(), "signing")
	if err := os.WriteFile(keyFile, key.PrivateKey, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ssh-signing-reuse-private-key"}, "--ssh-signing-reuse-private-key needs --private-key-file"},
		{[]string{"--ssh-signing-key-file", keyFile}, "the SSH signing key is protected by a passphrase"},
		{[]string{"--ssh-signing-key-file", keyFile, "--gpg-key-ring", keyFile}, "either OpenPGP (--gpg-key-ring) or SSH"},
		{[]string{"--sparse-checkout", "apps"}, `--sparse-checkout apps does not include --path "clusters/dev"`},
		{[]string{"--sparse-checkout", "../x"}, `invalid --sparse-checkout directory "../x"`},
	} {
		args := append([]string{"bootstrap", "git", "-n", ns, "--url", srv.RepoURL(repo.Name()), "--allow-insecure-http",
			"-u", "git", "-p", "s3cret", "--path", "clusters/dev"}, tc.args...)
		_, stderr, err := runFlux(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q\n%s", tc.args, err, tc.want, stderr)
		}
	}
	if repo.Head("main") != "" {
		t.Error("a refused bootstrap pushed")
	}
	assertNothingInstalled(t, ns)
}
