package gittest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// gitCLI runs the git binary as a client against the servers and returns
// its combined output and error.
func gitCLI(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Env = append(gitEnv(t.TempDir()), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestRepoHashesAreDeterministic(t *testing.T) {
	build := func() (string, string) {
		r := NewRepo(t)
		first := r.CommitFiles("main", map[string]string{"a.txt": "a", "dir/b.txt": "b"}, "first")
		second := r.RemoveFiles("main", []string{"dir"}, "second")
		return first, second
	}
	a1, a2 := build()
	b1, b2 := build()
	if a1 != b1 || a2 != b2 {
		t.Fatalf("hashes differ between runs: %s/%s vs %s/%s", a1, a2, b1, b2)
	}
	if a1 == a2 {
		t.Fatal("second commit has the first commit's hash")
	}
}

func TestRepoContent(t *testing.T) {
	r := NewRepo(t)
	sub := NewRepoAt(t, r.Root(), "sub.git")
	subHash := sub.CommitFiles(DefaultBranch, map[string]string{"s.txt": "s"}, "sub")

	r.CommitFiles("main", map[string]string{"a.txt": "a", "dir/b.txt": "b"}, "files")
	r.CommitExecutables("main", map[string]string{"run.sh": "#!/bin/sh\n"}, "exec")
	r.CommitSymlink("main", "link", "../../etc/passwd", "link")
	r.AddSubmodule("main", "vendor/sub", "../sub.git", subHash, "submodule")
	head := r.RemoveFiles("main", []string{"dir/b.txt"}, "remove")

	tree := r.run(nil, nil, "ls-tree", "-r", head)
	for _, want := range []string{
		"100644 blob", "a.txt",
		"100755 blob", "run.sh",
		"120000 blob", "link",
		"160000 commit " + subHash + "\tvendor/sub",
		".gitmodules",
	} {
		if !strings.Contains(tree, want) {
			t.Errorf("tree lacks %q:\n%s", want, tree)
		}
	}
	if strings.Contains(tree, "dir/b.txt") {
		t.Errorf("removed file still in tree:\n%s", tree)
	}
	if got := r.run(nil, nil, "cat-file", "blob", head+":link"); got != "../../etc/passwd" {
		t.Errorf("symlink target = %q", got)
	}
	if r.Head("main") != head || r.Head("missing") != "" {
		t.Errorf("Head: main=%q missing=%q", r.Head("main"), r.Head("missing"))
	}

	r.Branch("dev", "main")
	light := r.Tag("v1", head, false)
	annotated := r.Tag("v2", head, true)
	if r.Head("dev") != head || light != head || annotated == head {
		t.Errorf("refs: dev=%s v1=%s v2=%s head=%s", r.Head("dev"), light, annotated, head)
	}
	r.DeleteRef("refs/heads/dev")
	if r.Head("dev") != "" {
		t.Error("dev still exists after DeleteRef")
	}
}

func TestRepoRejectsBadInput(t *testing.T) {
	for _, name := range []string{"", "../out.git", "/abs.git"} {
		ft := &fatalRecorder{TB: t}
		func() {
			defer func() { _ = recover() }()
			NewRepoAt(ft, t.TempDir(), name)
		}()
		if !ft.failed {
			t.Errorf("NewRepoAt(%q) did not fail", name)
		}
	}
	r := NewRepo(t)
	r.CommitFiles("main", map[string]string{"a": "a"}, "a")
	ft := &fatalRecorder{TB: t}
	r.t = ft
	func() {
		defer func() { _ = recover() }()
		r.RemoveFiles("main", []string{"missing"}, "rm")
	}()
	if !ft.failed || !strings.Contains(ft.msg, "missing") {
		t.Errorf("RemoveFiles of a missing path: failed=%v msg=%q", ft.failed, ft.msg)
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = strings.TrimSpace(strings.ReplaceAll(format, "%v", "") + " " + strings.TrimSpace(fmtArgs(args)))
	panic("fatal")
}

func fmtArgs(args []any) string {
	var b strings.Builder
	for _, a := range args {
		if err, ok := a.(error); ok {
			b.WriteString(err.Error())
		} else if s, ok := a.(string); ok {
			b.WriteString(s)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func TestHTTPServerWithGitCLI(t *testing.T) {
	r := NewRepo(t)
	head := r.CommitFiles(DefaultBranch, map[string]string{"a": "a"}, "a")

	tests := []struct {
		name    string
		opts    HTTPOptions
		config  func(s *HTTPServer) []string
		user    string
		wantErr string
	}{
		{name: "anonymous"},
		{name: "basic", opts: HTTPOptions{Username: "u", Password: "p"}, user: "u:p@"},
		{name: "wrong password", opts: HTTPOptions{Username: "u", Password: "p"}, user: "u:x@", wantErr: "Authentication failed"},
		{name: "bearer", opts: HTTPOptions{BearerToken: "tok"},
			config: func(*HTTPServer) []string { return []string{"-c", "http.extraHeader=Authorization: Bearer tok"} }},
		{name: "no credentials", opts: HTTPOptions{BearerToken: "tok"}, wantErr: "terminal prompts disabled"},
		{name: "tls", opts: HTTPOptions{TLS: true}, config: func(s *HTTPServer) []string {
			return []string{"-c", "http.sslCAInfo=" + writeFile(t, s.CAPEM)}
		}},
		{name: "tls unknown CA", opts: HTTPOptions{TLS: true}, wantErr: "certificate"},
		{name: "mtls", opts: HTTPOptions{RequireClientCert: true}, config: func(s *HTTPServer) []string {
			cert, key := s.ClientCertificate()
			return []string{"-c", "http.sslCAInfo=" + writeFile(t, s.CAPEM),
				"-c", "http.sslCert=" + writeFile(t, cert), "-c", "http.sslKey=" + writeFile(t, key)}
		}},
		{name: "mtls without client cert", opts: HTTPOptions{RequireClientCert: true}, wantErr: "unable to access",
			config: func(s *HTTPServer) []string { return []string{"-c", "http.sslCAInfo=" + writeFile(t, s.CAPEM)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewHTTPServer(t, r.Root(), tt.opts)
			var args []string
			if tt.config != nil {
				args = tt.config(s)
			}
			url := strings.Replace(s.RepoURL(r.Name()), "://", "://"+tt.user, 1)
			out, err := gitCLI(t, nil, append(args, "ls-remote", url, "refs/heads/"+DefaultBranch)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(out, tt.wantErr) {
					t.Fatalf("want error containing %q, got err=%v out=%s", tt.wantErr, err, out)
				}
				return
			}
			if err != nil || !strings.HasPrefix(out, head) {
				t.Fatalf("ls-remote: err=%v out=%s", err, out)
			}
		})
	}
}

func TestHTTPServerStopStartAndCount(t *testing.T) {
	r := NewRepo(t)
	r.CommitFiles(DefaultBranch, map[string]string{"a": "a"}, "a")
	s := NewHTTPServer(t, r.Root(), HTTPOptions{})
	url := s.RepoURL(r.Name())

	if out, err := gitCLI(t, nil, "clone", "--quiet", url, filepath.Join(t.TempDir(), "c")); err != nil {
		t.Fatalf("clone: %v: %s", err, out)
	}
	if s.PackRequests() != 1 {
		t.Fatalf("clone made %d pack requests, want 1: %+v", s.PackRequests(), s.Requests())
	}
	s.ResetRequests()
	if out, err := gitCLI(t, nil, "ls-remote", url); err != nil || s.PackRequests() != 0 || len(s.Requests()) == 0 {
		t.Fatalf("ls-remote: err=%v out=%s requests=%+v", err, out, s.Requests())
	}

	s.Stop()
	if out, err := gitCLI(t, nil, "ls-remote", url); err == nil || !strings.Contains(out, "Failed to connect") {
		t.Fatalf("ls-remote on a stopped server: err=%v out=%s", err, out)
	}
	s.Start()
	if out, err := gitCLI(t, nil, "ls-remote", url); err != nil {
		t.Fatalf("ls-remote after Start: %v: %s", err, out)
	}
}

func TestSSHServerWithGitCLI(t *testing.T) {
	r := NewRepo(t)
	head := r.CommitFiles(DefaultBranch, map[string]string{"a": "a"}, "a")
	client := GenerateSSHKey(t)
	stranger := GenerateSSHKey(t)
	s := NewSSHServer(t, r.Root(), SSHOptions{AuthorizedKeys: []string{client.AuthorizedKey}})

	tests := []struct {
		name       string
		key        *SSHKey
		knownHosts string
		wantErr    string
	}{
		{name: "authorized key", key: client, knownHosts: s.KnownHosts()},
		{name: "unknown key", key: stranger, knownHosts: s.KnownHosts(), wantErr: "Permission denied"},
		{name: "host key mismatch", key: client, knownHosts: s.KnownHostsLine(stranger.PublicKey), wantErr: "HOST IDENTIFICATION HAS CHANGED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sshCmd := "ssh -F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes" +
				" -o UserKnownHostsFile=" + writeFile(t, []byte(tt.knownHosts+"\n")) + " -i " + tt.key.signingFile(t)
			out, err := gitCLI(t, []string{"GIT_SSH_COMMAND=" + sshCmd}, "ls-remote", s.URL(r.Name()))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(out, tt.wantErr) {
					t.Fatalf("want error containing %q, got err=%v out=%s", tt.wantErr, err, out)
				}
				return
			}
			if err != nil || !strings.HasPrefix(out, head) {
				t.Fatalf("ls-remote: err=%v out=%s", err, out)
			}
		})
	}
	if reqs := s.Requests(); len(reqs) == 0 || reqs[0].Service != "git-upload-pack" || reqs[0].Path != "/"+r.Name() {
		t.Fatalf("requests = %+v", reqs)
	}
}

func TestSignedObjectsVerifyWithRealTools(t *testing.T) {
	r := NewRepo(t)
	pgp := GeneratePGPKey(t, AuthorName, AuthorEmail)
	sshKey := GenerateSSHKey(t)

	pgpCommit := r.CommitSigned("main", map[string]string{"a": "a"}, "pgp", SignWith{PGP: pgp})
	sshCommit := r.CommitSigned("main", map[string]string{"b": "b"}, "ssh", SignWith{SSH: sshKey})
	sshTag := r.TagSigned("v1", sshCommit, "ssh tag", SignWith{SSH: sshKey})
	pgpTag := r.TagSigned("v2", pgpCommit, "pgp tag", SignWith{PGP: pgp})

	allowed := writeFile(t, []byte(AuthorEmail+" "+sshKey.AuthorizedKey+"\n"))
	cfg := []string{"-c", "gpg.ssh.allowedSignersFile=" + allowed, "--git-dir=" + r.Dir()}
	if out, err := gitCLI(t, nil, append(cfg, "verify-commit", sshCommit)...); err != nil {
		t.Fatalf("git verify-commit (ssh): %v: %s", err, out)
	}
	if out, err := gitCLI(t, nil, append(cfg, "verify-tag", "v1")...); err != nil {
		t.Fatalf("git verify-tag (ssh): %v: %s", err, out)
	}
	if sshTag == sshCommit || pgpTag == pgpCommit {
		t.Fatal("signed tags are not tag objects")
	}
	// The PGP signature must be one gpg accepts: check it with gpg itself.
	raw := r.run(nil, nil, "cat-file", "commit", pgpCommit)
	if !strings.Contains(raw, "gpgsig -----BEGIN PGP SIGNATURE-----") {
		t.Fatalf("commit carries no PGP signature:\n%s", raw)
	}
	home := t.TempDir()
	if out, err := command(pgp.PublicKey, "gpg", "--homedir", home, "--batch", "--import"); err != nil {
		t.Fatalf("gpg --import: %v: %s", err, out)
	}
	for _, obj := range []string{pgpCommit, "v2"} {
		verb := "verify-commit"
		if obj == "v2" {
			verb = "verify-tag"
		}
		if out, err := gitCLI(t, []string{"GNUPGHOME=" + home}, "--git-dir="+r.Dir(), verb, obj); err != nil {
			t.Fatalf("git %s (pgp): %v: %s", verb, err, out)
		}
	}
	other := GeneratePGPKey(t, "Other", "other@driftless.invalid")
	if err := VerifyPGPSignature(other.PublicKey, []byte("x"), "not a signature"); err == nil {
		t.Fatal("VerifyPGPSignature accepted garbage")
	}
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPushOverHTTPAndSSH(t *testing.T) {
	r := NewRepo(t)
	base := r.CommitFiles(DefaultBranch, map[string]string{"a": "a"}, "a")
	key := GenerateSSHKey(t)
	httpSrv := NewHTTPServer(t, r.Root(), HTTPOptions{Username: "u", Password: "p"})
	sshSrv := NewSSHServer(t, r.Root(), SSHOptions{AuthorizedKeys: []string{key.AuthorizedKey}})
	sshCmd := "ssh -F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes" +
		" -o UserKnownHostsFile=" + writeFile(t, []byte(sshSrv.KnownHosts()+"\n")) + " -i " + key.signingFile(t)

	for i, url := range []string{strings.Replace(httpSrv.RepoURL(r.Name()), "://", "://u:p@", 1), sshSrv.URL(r.Name())} {
		work := filepath.Join(t.TempDir(), "work")
		env := []string{"GIT_SSH_COMMAND=" + sshCmd}
		if out, err := gitCLI(t, env, "clone", "--quiet", url, work); err != nil {
			t.Fatalf("clone %s: %v: %s", url, err, out)
		}
		if err := os.WriteFile(filepath.Join(work, "pushed.txt"), []byte{byte('0' + i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"add", "pushed.txt"}, {"commit", "--quiet", "-m", "push"}, {"push", "--quiet", "origin", "HEAD:" + DefaultBranch}} {
			if out, err := gitCLI(t, env, append([]string{"-C", work}, args...)...); err != nil {
				t.Fatalf("git %v via %s: %v: %s", args, url, err, out)
			}
		}
		if head := r.Head(DefaultBranch); head == base {
			t.Fatalf("push via %s did not move %s", url, DefaultBranch)
		}
	}
}

func TestSSHServerPasswordAndBadCommands(t *testing.T) {
	r := NewRepo(t)
	head := r.CommitFiles(DefaultBranch, map[string]string{"a": "a"}, "a")
	s := NewSSHServer(t, r.Root(), SSHOptions{Password: "pw"})

	dial := func(password string) (*ssh.Client, error) {
		return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
			User: "git", Auth: []ssh.AuthMethod{ssh.Password(password)},
			HostKeyCallback: ssh.FixedHostKey(s.HostKey.PublicKey),
		})
	}
	if _, err := dial("wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	client, err := dial("pw")
	if err != nil {
		t.Fatalf("password login: %v", err)
	}
	defer func() { _ = client.Close() }()

	tests := []struct {
		command, wantOut string
		wantExit         int
	}{
		{command: "git-upload-pack '/" + r.Name() + "'", wantOut: head},
		{command: "git-upload-pack '/../../etc'", wantExit: 128},
		{command: "rm -rf /", wantExit: 127},
		{command: "git-upload-pack '/missing.git'", wantExit: 128},
	}
	for _, tt := range tests {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		sess.Stdin = strings.NewReader("0000") // flush: a client that wants nothing
		out, err := sess.Output(tt.command)
		exit := 0
		var exitErr *ssh.ExitError
		if errors.As(err, &exitErr) {
			exit = exitErr.ExitStatus()
		} else if err != nil {
			t.Fatalf("%s: %v", tt.command, err)
		}
		if exit != tt.wantExit || !strings.Contains(string(out), tt.wantOut) {
			t.Errorf("%s: exit %d, output %q; want exit %d containing %q", tt.command, exit, out, tt.wantExit, tt.wantOut)
		}
	}
}
