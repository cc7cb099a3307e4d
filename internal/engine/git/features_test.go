package git

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

func exists(t *testing.T, dir, name string) bool {
	t.Helper()
	_, err := os.Lstat(filepath.Join(dir, name))
	return err == nil
}

func TestSubmodules(t *testing.T) {
	creds := gittest.HTTPOptions{Username: "git", Password: "s3cr3t-pass"}
	main := gittest.NewRepo(t)
	root := main.Root()
	lib := gittest.NewRepoAt(t, root, "lib.git")
	nested := gittest.NewRepoAt(t, root, "group/nested.git")
	srv := gittest.NewHTTPServer(t, root, creds)
	elsewhere := gittest.NewHTTPServer(t, root, creds)

	nestedHash := nested.CommitFiles("master", map[string]string{"nested.txt": "nested"}, "nested")
	libOld := lib.CommitFiles("master", map[string]string{"lib.txt": "old"}, "old")
	lib.CommitFiles("master", map[string]string{"lib.txt": "new"}, "new")
	lib.AddSubmodule("master", "deep", srv.RepoURL("group/nested.git"), nestedHash, "nested module")
	libHead := lib.Head("master")

	main.CommitFiles("master", map[string]string{"main.txt": "main"}, "main")
	main.AddSubmodule("master", "vendor/lib", "../lib.git", libHead, "relative module")
	main.AddSubmodule("master", "pinned", srv.RepoURL("lib.git"), libOld, "module at an old commit")

	auth := mustAuth(t, srv.URL()+"/x", map[string][]byte{"username": []byte("git"), "password": []byte("s3cr3t-pass")})
	url := srv.RepoURL(main.Name())
	var client Client

	dir := t.TempDir()
	if _, err := client.Clone(context.Background(), dir, CloneOptions{URL: url, Auth: auth, RecurseSubmodules: true}); err != nil {
		t.Fatalf("Clone with submodules: %v", err)
	}
	for name, want := range map[string]string{
		"main.txt": "main", "vendor/lib/lib.txt": "new", "vendor/lib/deep/nested.txt": "nested", "pinned/lib.txt": "old",
	} {
		if got := readFile(t, dir, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if exists(t, dir, "pinned/deep") && exists(t, dir, "pinned/deep/nested.txt") {
		t.Error("the old lib commit has no submodule, yet pinned/deep was checked out")
	}

	dir = t.TempDir()
	if _, err := client.Clone(context.Background(), dir, CloneOptions{URL: url, Auth: auth}); err != nil {
		t.Fatal(err)
	}
	if exists(t, dir, "vendor/lib/lib.txt") {
		t.Error("submodules were checked out without RecurseSubmodules")
	}

	t.Run("credentials stay on their host", func(t *testing.T) {
		r := gittest.NewRepoAt(t, root, "foreign.git")
		r.AddSubmodule("master", "lib", elsewhere.RepoURL("lib.git"), libHead, "module on another host")
		_, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: srv.RepoURL(r.Name()), Auth: auth, RecurseSubmodules: true})
		t.Logf("error: %v", err)
		if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "submodule 'lib'") {
			t.Fatalf("got %v, want the foreign submodule fetched without credentials", err)
		}
		assertNoSecrets(t, err)
	})

	for _, tt := range []struct {
		name, url, hash string
		want            error
	}{
		{name: "file URL", url: "file://" + lib.Dir(), hash: libHead, want: ErrInvalidURL},
		{name: "local path", url: lib.Dir(), hash: libHead, want: ErrInvalidURL},
		{name: "missing commit", url: "../lib.git", hash: strings.Repeat("cd", 20), want: ErrReferenceNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := gittest.NewRepoAt(t, root, strings.ReplaceAll(tt.name, " ", "-")+".git")
			r.AddSubmodule("master", "mod", tt.url, tt.hash, "bad module")
			_, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: srv.RepoURL(r.Name()), Auth: auth, RecurseSubmodules: true})
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), "submodule 'mod'") {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSubmoduleURL(t *testing.T) {
	parent, _ := parseURL("https://git.example/org/app.git")
	for raw, want := range map[string]string{
		"../lib.git":                   "https://git.example/org/lib.git",
		"./sub.git":                    "https://git.example/org/app.git/sub.git",
		"../../other/x.git":            "https://git.example/other/x.git",
		"git@github.com:org/repo.git":  "ssh://git@github.com/org/repo.git",
		"ssh://git@host:2222/repo.git": "ssh://git@host:2222/repo.git",
	} {
		u, err := submoduleURL(parent, raw)
		if err != nil || u.String() != want {
			t.Errorf("submoduleURL(%q) = %v, %v; want %s", raw, u, err, want)
		}
	}
}

func TestSparseCheckout(t *testing.T) {
	r := gittest.NewRepo(t)
	r.CommitFiles("master", map[string]string{
		"root.txt": "root", "apps/a.txt": "a", "apps/sub/s.txt": "s", "infra/b.txt": "b", "infra/deep/c.txt": "c",
	}, "tree")
	srv := gittest.NewHTTPServer(t, r.Root(), gittest.HTTPOptions{})
	url := srv.RepoURL(r.Name())
	var client Client

	tests := []struct {
		name    string
		sparse  []string
		present []string
		absent  []string
		message string
	}{
		{name: "one directory", sparse: []string{"apps"}, present: []string{"apps/a.txt", "apps/sub/s.txt"}, absent: []string{"infra/b.txt", "infra/deep/c.txt", "root.txt"}},
		{name: "nested directory", sparse: []string{"./infra/deep/"}, present: []string{"infra/deep/c.txt"}, absent: []string{"apps/a.txt", "infra/b.txt"}},
		{name: "two directories", sparse: []string{"apps/sub", "infra"}, present: []string{"apps/sub/s.txt", "infra/b.txt"}, absent: []string{"apps/a.txt"}},
		{name: "dot is everything", sparse: []string{"."}, present: []string{"root.txt", "apps/a.txt", "infra/b.txt"}},
		{name: "missing directory", sparse: []string{"apps", "nope"}, message: "sparse checkout directory 'nope' does not exist"},
		{name: "a file is not a directory", sparse: []string{"root.txt"}, message: "'root.txt' does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := client.Clone(context.Background(), dir, CloneOptions{URL: url, SparseCheckout: tt.sparse})
			if tt.message != "" {
				if err == nil || !strings.Contains(err.Error(), tt.message) {
					t.Fatalf("got %v, want error containing %q", err, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.present {
				if !exists(t, dir, p) {
					t.Errorf("%s missing", p)
				}
			}
			for _, p := range tt.absent {
				if exists(t, dir, p) {
					t.Errorf("%s checked out outside the sparse directories", p)
				}
			}
		})
	}
}

func TestSymlinksAreCheckedOutAsLinks(t *testing.T) {
	r := gittest.NewRepo(t)
	r.CommitFiles("master", map[string]string{"a.txt": "a"}, "a")
	r.CommitSymlink("master", "escape", "../../../../etc/passwd", "link out")
	srv := gittest.NewHTTPServer(t, r.Root(), gittest.HTTPOptions{})
	dir := t.TempDir()
	var client Client
	if _, err := client.Clone(context.Background(), dir, CloneOptions{URL: srv.RepoURL(r.Name())}); err != nil {
		t.Fatal(err)
	}
	target, err := os.Readlink(filepath.Join(dir, "escape"))
	if err != nil || target != "../../../../etc/passwd" {
		t.Fatalf("escape is not the committed symlink: %q, %v", target, err)
	}
}

func TestSignedObjectsExposePayloadAndSignature(t *testing.T) {
	r := gittest.NewRepo(t)
	pgp := gittest.GeneratePGPKey(t, gittest.AuthorName, gittest.AuthorEmail)
	sshKey := gittest.GenerateSSHKey(t)
	unsigned := r.CommitFiles("master", map[string]string{"a": "a"}, "unsigned")
	pgpCommit := r.CommitSigned("pgp", map[string]string{"a": "pgp"}, "pgp signed", gittest.SignWith{PGP: pgp})
	sshCommit := r.CommitSigned("ssh", map[string]string{"a": "ssh"}, "ssh signed", gittest.SignWith{SSH: sshKey})
	r.TagSigned("pgp-tag", pgpCommit, "pgp tag", gittest.SignWith{PGP: pgp})
	r.TagSigned("ssh-tag", sshCommit, "ssh tag", gittest.SignWith{SSH: sshKey})
	srv := gittest.NewHTTPServer(t, r.Root(), gittest.HTTPOptions{})
	url := srv.RepoURL(r.Name())
	var client Client

	clone := func(ref Reference) *Commit {
		t.Helper()
		c, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: url, Reference: ref})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// rawWithoutSignature is what `git verify-commit` hands to gpg/ssh-keygen.
	rawWithoutSignature := func(hash string) string {
		out, err := gittestRaw(r, hash)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		inSig := false
		for _, line := range strings.SplitAfter(out, "\n") {
			switch {
			case strings.HasPrefix(line, "gpgsig "):
				inSig = true
			case inSig && strings.HasPrefix(line, " "):
			default:
				inSig = false
				kept = append(kept, line)
			}
		}
		return strings.Join(kept, "")
	}

	if c := clone(Reference{}); c.Hash != unsigned || c.Signature != "" || string(c.Encoded) != rawWithoutSignature(unsigned) {
		t.Fatalf("unsigned commit: %+v", c)
	}

	c := clone(Reference{Branch: "pgp"})
	if !strings.HasPrefix(c.Signature, "-----BEGIN PGP SIGNATURE-----") || string(c.Encoded) != rawWithoutSignature(pgpCommit) {
		t.Fatalf("PGP commit: signature %q, payload %q", c.Signature, c.Encoded)
	}
	if err := gittest.VerifyPGPSignature(pgp.PublicKey, c.Encoded, c.Signature); err != nil {
		t.Fatalf("PGP commit signature does not verify over the payload: %v", err)
	}
	if err := gittest.VerifyPGPSignature(pgp.PublicKey, append(c.Encoded, 'x'), c.Signature); err == nil {
		t.Fatal("PGP signature verified over a tampered payload")
	}

	c = clone(Reference{Branch: "ssh"})
	if !strings.HasPrefix(c.Signature, "-----BEGIN SSH SIGNATURE-----") {
		t.Fatalf("SSH commit signature = %q", c.Signature)
	}
	if err := gittest.VerifySSHSignature(t, sshKey, c.Encoded, c.Signature); err != nil {
		t.Fatalf("ssh-keygen rejects the SSH commit signature: %v", err)
	}
	if err := gittest.VerifySSHSignature(t, gittest.GenerateSSHKey(t), c.Encoded, c.Signature); err == nil {
		t.Fatal("ssh-keygen accepted the signature for another key")
	}

	c = clone(Reference{Tag: "pgp-tag"})
	if c.Hash != pgpCommit || c.Tag == nil || c.Tag.Name != "pgp-tag" || c.Tag.Message != "pgp tag\n" {
		t.Fatalf("PGP tag: %+v %+v", c, c.Tag)
	}
	if err := gittest.VerifyPGPSignature(pgp.PublicKey, c.Tag.Encoded, c.Tag.Signature); err != nil {
		t.Fatalf("PGP tag signature does not verify: %v", err)
	}
	if c.Signature == "" || gittest.VerifyPGPSignature(pgp.PublicKey, c.Encoded, c.Signature) != nil {
		t.Fatal("the commit under a PGP tag lost its own signature")
	}

	c = clone(Reference{SemVer: "*", Name: "refs/tags/ssh-tag"})
	if c.Tag == nil || c.Tag.Name != "ssh-tag" || !strings.HasPrefix(c.Tag.Signature, "-----BEGIN SSH SIGNATURE-----") {
		t.Fatalf("SSH tag: %+v", c.Tag)
	}
	if err := gittest.VerifySSHSignature(t, sshKey, c.Tag.Encoded, c.Tag.Signature); err != nil {
		t.Fatalf("ssh-keygen rejects the SSH tag signature: %v", err)
	}
}

// gittestRaw returns the raw commit object as git stores it.
func gittestRaw(r *gittest.Repo, hash string) (string, error) {
	out, err := execGit(r.Dir(), "cat-file", "commit", hash)
	return out, err
}

func execGit(gitDir string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"--git-dir=" + gitDir}, args...)...).Output()
	return string(out), err
}
