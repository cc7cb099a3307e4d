package git

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

var pushAuthor = Signature{Name: "Flux", Email: "flux@example.com"}

func basicAuth(t *testing.T, rawURL, user, pass string) *Auth {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	a, err := AuthFromSecret(u, map[string][]byte{UsernameKey: []byte(user), PasswordKey: []byte(pass)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// cloneFile clones branch and returns the content of name in it.
func cloneFile(t *testing.T, opts CloneOptions, name string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := (&Client{}).Clone(context.Background(), dir, opts); err != nil {
		t.Fatalf("clone: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(data)
}

func TestPushIntoEmptyRepositoryThenNoChange(t *testing.T) {
	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "s3cret"})
	u := srv.RepoURL(repo.Name())
	auth := basicAuth(t, u, "git", "s3cret")
	ctx := context.Background()
	files := map[string][]byte{
		"clusters/dev/flux-system/a.yaml": []byte("a: 1\n"),
		"clusters/dev/flux-system/b.yaml": []byte("b: 2\n"),
	}

	w, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main", Auth: auth})
	if err != nil {
		t.Fatalf("checkout: %v", err)
	}
	if w.Head() != "" {
		t.Fatalf("head of a new branch = %q, want none", w.Head())
	}
	hash, changed, err := w.Commit(CommitRequest{Files: files, Message: "Add files", Author: pushAuthor})
	if err != nil || !changed {
		t.Fatalf("commit = %s, %v, %v; want a new commit", hash, changed, err)
	}
	pushed, err := w.Push(ctx)
	if err != nil || !pushed {
		t.Fatalf("push = %v, %v", pushed, err)
	}
	if got := repo.Head("main"); got != hash {
		t.Fatalf("remote main = %s, want %s", got, hash)
	}
	opts := CloneOptions{URL: u, Reference: Reference{Branch: "main"}, Auth: auth}
	if got := cloneFile(t, opts, "clusters/dev/flux-system/b.yaml"); got != "b: 2\n" {
		t.Fatalf("pushed b.yaml = %q", got)
	}

	// The same files again: no commit, no push.
	w2, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main", Auth: auth})
	if err != nil {
		t.Fatalf("checkout again: %v", err)
	}
	again, changed, err := w2.Commit(CommitRequest{Files: files, Message: "Add files", Author: pushAuthor})
	if err != nil || changed || again != hash {
		t.Fatalf("second commit = %s, %v, %v; want %s unchanged", again, changed, err, hash)
	}
	if pushed, err := w2.Push(ctx); err != nil || pushed {
		t.Fatalf("second push = %v, %v; want nothing pushed", pushed, err)
	}
	if got := repo.Head("main"); got != hash {
		t.Fatalf("remote main moved to %s", got)
	}
}

func TestPushOnTopOfExistingContent(t *testing.T) {
	repo := gittest.NewRepo(t)
	base := repo.CommitFiles("main", map[string]string{"README.md": "hello\n", "apps/app.yaml": "x: 1\n"}, "initial")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	u := srv.RepoURL(repo.Name())
	ctx := context.Background()

	w, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main"})
	if err != nil {
		t.Fatalf("checkout: %v", err)
	}
	if w.Head() != base {
		t.Fatalf("head = %s, want %s", w.Head(), base)
	}
	if data, ok := w.ReadFile("README.md"); !ok || string(data) != "hello\n" {
		t.Fatalf("README.md = %q, %v", data, ok)
	}
	// A file that already has the content is not a change.
	if _, changed, err := w.Commit(CommitRequest{Files: map[string][]byte{"apps/app.yaml": []byte("x: 1\n")}, Message: "noop", Author: pushAuthor}); err != nil || changed {
		t.Fatalf("commit of identical content: changed=%v err=%v", changed, err)
	}
	first, changed, err := w.Commit(CommitRequest{Files: map[string][]byte{"apps/app.yaml": []byte("x: 2\n")}, Message: "one", Author: pushAuthor})
	if err != nil || !changed {
		t.Fatalf("commit one: %v %v", changed, err)
	}
	second, changed, err := w.Commit(CommitRequest{Files: map[string][]byte{"new/file.txt": []byte("new\n")}, Message: "two", Author: pushAuthor})
	if err != nil || !changed {
		t.Fatalf("commit two: %v %v", changed, err)
	}
	if pushed, err := w.Push(ctx); err != nil || !pushed {
		t.Fatalf("push = %v, %v", pushed, err)
	}
	if got := repo.Head("main"); got != second {
		t.Fatalf("remote main = %s, want %s", got, second)
	}
	dir := t.TempDir()
	c, err := (&Client{}).Clone(ctx, dir, CloneOptions{URL: u, Reference: Reference{Branch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject() != "two" || c.Author.Name != "Flux" || c.Author.Email != "flux@example.com" {
		t.Fatalf("head commit %q by %s <%s>", c.Subject(), c.Author.Name, c.Author.Email)
	}
	for name, want := range map[string]string{"README.md": "hello\n", "apps/app.yaml": "x: 2\n", "new/file.txt": "new\n"} {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	_ = first
}

func TestPushOverSSH(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"README.md": "hello\n"}, "initial")
	key := gittest.GenerateSSHKey(t)
	srv := gittest.NewSSHServer(t, repo.Root(), gittest.SSHOptions{AuthorizedKeys: []string{key.AuthorizedKey}})
	u := srv.URL(repo.Name())
	pu, _ := url.Parse(u)
	auth, err := AuthFromSecret(pu, map[string][]byte{IdentityKey: key.PrivateKey, KnownHostsKey: []byte(srv.KnownHosts())})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main", Auth: auth})
	if err != nil {
		t.Fatalf("checkout: %v", err)
	}
	hash, _, err := w.Commit(CommitRequest{Files: map[string][]byte{"f.txt": []byte("over ssh\n")}, Message: "ssh", Author: pushAuthor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Push(ctx); err != nil {
		t.Fatalf("push over SSH: %v", err)
	}
	if got := repo.Head("main"); got != hash {
		t.Fatalf("remote main = %s, want %s", got, hash)
	}
}

func TestPushErrors(t *testing.T) {
	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "right"})
	u := srv.RepoURL(repo.Name())
	ctx := context.Background()

	_, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main", Auth: basicAuth(t, u, "git", "wrong")})
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("wrong password: err = %v, want ErrAuthentication", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error shows the password: %v", err)
	}

	_, err = (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: "http://127.0.0.1:1/repo.git", Branch: "main"})
	if err == nil {
		t.Fatal("unreachable remote: no error")
	}

	w, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main", Auth: basicAuth(t, u, "git", "right")})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../escape.txt", ".git/config", "/abs"} {
		if _, _, err := w.Commit(CommitRequest{Files: map[string][]byte{bad: []byte("x")}, Message: "bad", Author: pushAuthor}); err == nil {
			t.Errorf("path %q accepted", bad)
		}
	}
	// Someone else pushes first: the push is refused, not forced.
	if _, _, err := w.Commit(CommitRequest{Files: map[string][]byte{"a.txt": []byte("a")}, Message: "mine", Author: pushAuthor}); err != nil {
		t.Fatal(err)
	}
	theirs := repo.CommitFiles("main", map[string]string{"b.txt": "b"}, "theirs")
	if _, err := w.Push(ctx); err == nil || !strings.Contains(err.Error(), "run the command again") {
		t.Fatalf("push over a moved branch: err = %v", err)
	}
	if repo.Head("main") != theirs {
		t.Fatal("remote branch was overwritten")
	}
}

func TestPushSignedCommit(t *testing.T) {
	key := gittest.GeneratePGPKey(t, "Flux", "flux@example.com")
	var ring bytes.Buffer
	aw, err := armor.Encode(&ring, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Entity.SerializePrivate(aw, nil); err != nil {
		t.Fatal(err)
	}
	_ = aw.Close()

	if _, err := LoadSigningKey(ring.Bytes(), "", "0000000000000000"); err == nil {
		t.Fatal("unknown key ID accepted")
	}
	entity, err := LoadSigningKey(ring.Bytes(), "", key.KeyID)
	if err != nil {
		t.Fatalf("load signing key: %v", err)
	}

	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	u := srv.RepoURL(repo.Name())
	ctx := context.Background()
	w, err := (&Client{}).CheckoutBranch(ctx, t.TempDir(), BranchOptions{URL: u, Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Commit(CommitRequest{Files: map[string][]byte{"f": []byte("f")}, Message: "signed", Author: pushAuthor, SignKey: entity}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Push(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := (&Client{}).Clone(ctx, t.TempDir(), CloneOptions{URL: u, Reference: Reference{Branch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Signature == "" {
		t.Fatal("pushed commit is not signed")
	}
	pub, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(pub, bytes.NewReader(c.Encoded), strings.NewReader(c.Signature), nil); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}
