package gitserver

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const author = "Driftless Demo <demo@driftless.invalid>"

// git runs git in dir with a clean configuration and returns its output.
func git(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=Tester", "GIT_COMMITTER_EMAIL=t@example.com",
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func startServer(t *testing.T, user, pass string) *Server {
	t.Helper()
	s, err := New(t.TempDir(), user, pass)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func withAuth(url, user, pass string) string {
	return strings.Replace(url, "http://", "http://"+user+":"+pass+"@", 1)
}

func TestInitCloneAndPush(t *testing.T) {
	s := startServer(t, "driftless", "s3cret")
	src := writeTree(t, map[string]string{
		"clusters/local/apps.yaml": "kind: Kustomization\n",
		"README.md":                "fleet\n",
		".gitignore":               "*.tmp\n",
		"scratch.tmp":              "ignored\n",
	})
	head, err := s.InitFromDir("fleet.git", src, "main", author)
	if err != nil {
		t.Fatal(err)
	}
	if len(head) != 40 {
		t.Fatalf("InitFromDir returned %q, want a commit hash", head)
	}

	clone := filepath.Join(t.TempDir(), "fleet")
	url := withAuth(s.RepoURL("fleet.git"), "driftless", "s3cret")
	mustGit(t, ".", "clone", "--quiet", url, clone)
	if got := mustGit(t, clone, "rev-parse", "HEAD"); got != head {
		t.Errorf("clone HEAD %s, want %s", got, head)
	}
	if got := mustGit(t, clone, "rev-parse", "--abbrev-ref", "HEAD"); got != "main" {
		t.Errorf("default branch %q, want main", got)
	}
	if got := mustGit(t, clone, "log", "-1", "--format=%an <%ae>"); got != author {
		t.Errorf("author %q, want %q", got, author)
	}
	files := mustGit(t, clone, "ls-files")
	if files != ".gitignore\nREADME.md\nclusters/local/apps.yaml" {
		t.Errorf("committed files:\n%s", files)
	}

	// A push lands in the bare repository.
	if err := os.WriteFile(filepath.Join(clone, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(t, clone, "commit", "--quiet", "-am", "change")
	pushed := mustGit(t, clone, "rev-parse", "HEAD")
	mustGit(t, clone, "push", "--quiet", "origin", "main")
	if got := mustGit(t, s.Root(), "--git-dir=fleet.git", "rev-parse", "refs/heads/main"); got != pushed {
		t.Errorf("bare main is %s after push, want %s", got, pushed)
	}
}

func TestBasicAuth(t *testing.T) {
	s := startServer(t, "driftless", "s3cret")
	if _, err := s.InitFromDir("fleet.git", writeTree(t, map[string]string{"a": "b\n"}), "main", author); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{s.RepoURL("fleet.git"), withAuth(s.RepoURL("fleet.git"), "driftless", "wrong")} {
		out, err := git(t, ".", "ls-remote", url)
		if err == nil || !strings.Contains(out, "Authentication failed") && !strings.Contains(out, "401") &&
			!strings.Contains(out, "could not read Username") {
			t.Errorf("ls-remote %s: err=%v out=%s, want an authentication failure", url, err, out)
		}
	}
	resp, err := http.Get(s.RepoURL("fleet.git") + "/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("anonymous request: %d %q, want 401 with a Basic challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestAnonymous(t *testing.T) {
	s := startServer(t, "", "")
	head, err := s.InitFromDir("team/apps.git", writeTree(t, map[string]string{"x.yaml": "a: 1\n"}), "trunk", author)
	if err != nil {
		t.Fatal(err)
	}
	out := mustGit(t, ".", "ls-remote", s.RepoURL("team/apps.git"))
	if !strings.Contains(out, head+"\trefs/heads/trunk") {
		t.Errorf("ls-remote: %s", out)
	}
	if _, err := git(t, ".", "ls-remote", s.RepoURL("missing.git")); err == nil {
		t.Error("a missing repository was served")
	}
}

func TestClose(t *testing.T) {
	s, err := New(t.TempDir(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.URL() != "" {
		t.Errorf("URL before Start: %q", s.URL())
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("a second Start succeeded")
	}
	url := s.URL()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(url + "/x.git/info/refs"); err == nil {
		t.Error("the server still answers after Close")
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(t.TempDir(), "user", ""); err == nil || !strings.Contains(err.Error(), "needs a password") {
		t.Errorf("username without password: %v", err)
	}
	if _, err := New(t.TempDir(), "", "pw"); err == nil || !strings.Contains(err.Error(), "needs a username") {
		t.Errorf("password without username: %v", err)
	}
	s, err := New(t.TempDir(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	busy := startServer(t, "", "")
	if err := s.Start(strings.TrimPrefix(busy.URL(), "http://")); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("Start on a port in use: %v", err)
	}
	src := writeTree(t, map[string]string{"a": "b\n"})
	if _, err := s.InitFromDir("fleet.git", src, "main", author); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, repo, dir, branch, author, msg string
	}{
		{"exists", "fleet.git", src, "main", author, "exists already"},
		{"escapes", "../out.git", src, "main", author, "inside the root"},
		{"absolute", "/tmp/x.git", src, "main", author, "inside the root"},
		{"no branch", "b.git", src, "", author, "no branch"},
		{"bad author", "c.git", src, "main", "nobody", "Name <email>"},
		{"no dir", "d.git", filepath.Join(src, "missing"), "main", author, "not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.InitFromDir(tc.repo, tc.dir, tc.branch, tc.author)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "d.git")); !os.IsNotExist(err) {
		t.Errorf("a failed InitFromDir left a repository behind: %v", err)
	}
}
