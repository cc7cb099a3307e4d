package gitserver

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// InitFromDir creates the bare repository name (such as "fleet.git") under
// the server's root whose branch holds the files of dir in one commit by
// author ("Name <email>"), and returns the commit's hash. dir's .gitignore
// rules apply; a .git directory in dir is never copied. It refuses a name
// that exists already or leaves the root.
func (s *Server) InitFromDir(name, dir, branch, author string) (string, error) {
	if name == "" || filepath.IsAbs(name) || !filepath.IsLocal(name) {
		return "", fmt.Errorf("gitserver: repository name %q must be a relative path inside the root", name)
	}
	if branch == "" {
		return "", fmt.Errorf("gitserver: no branch given")
	}
	addr, err := mail.ParseAddress(author)
	if err != nil || addr.Name == "" {
		return "", fmt.Errorf("gitserver: author %q: want \"Name <email>\"", author)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("gitserver: %s is not a directory", dir)
	}
	bare := filepath.Join(s.root, name)
	if _, err := os.Lstat(bare); err == nil {
		return "", fmt.Errorf("gitserver: repository %s exists already", bare)
	}
	scratch, err := os.MkdirTemp("", "gitserver-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + scratch,
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=" + addr.Name,
		"GIT_AUTHOR_EMAIL=" + addr.Address,
		"GIT_COMMITTER_NAME=" + addr.Name,
		"GIT_COMMITTER_EMAIL=" + addr.Address,
		"GIT_INDEX_FILE=" + filepath.Join(scratch, "index"),
	}
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Env = env
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("gitserver: git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(stdout.String()), nil
	}
	fail := func(err error) (string, error) {
		_ = os.RemoveAll(bare)
		return "", err
	}
	if _, err := git("init", "--quiet", "--bare", "--initial-branch="+branch, bare); err != nil {
		return fail(err)
	}
	if _, err := git("--git-dir="+bare, "config", "http.receivepack", "true"); err != nil {
		return fail(err)
	}
	wt := []string{"--git-dir=" + bare, "--work-tree=" + dir}
	if _, err := git(append(wt, "add", "--all", ".")...); err != nil {
		return fail(err)
	}
	if _, err := git(append(wt, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", "Initial commit from "+filepath.Base(dir))...); err != nil {
		return fail(err)
	}
	head, err := git("--git-dir="+bare, "rev-parse", "refs/heads/"+branch)
	if err != nil {
		return fail(err)
	}
	return head, nil
}
