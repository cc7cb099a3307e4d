package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/driftless/driftless/internal/testkit/gitserver"
)

const (
	repoName   = "fleet.git"
	repoBranch = "main"
	repoAuthor = "Driftless Bench <bench@driftless.invalid>"
)

// fleet is the Git repository the workloads reconcile: a bare repository
// served over HTTP and a working clone the bench commits and pushes from.
type fleet struct {
	server *gitserver.Server
	work   string
	env    []string
}

// newFleet serves a repository holding files (path → content) under dir and
// clones it into dir/work.
func newFleet(dir string, files map[string]string) (*fleet, string, error) {
	srv, err := gitserver.New(filepath.Join(dir, "git"), "", "")
	if err != nil {
		return nil, "", err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, "", err
	}
	f := &fleet{server: srv, work: filepath.Join(dir, "work")}
	f.env = append(os.Environ(),
		"HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Driftless Bench", "GIT_AUTHOR_EMAIL=bench@driftless.invalid",
		"GIT_COMMITTER_NAME=Driftless Bench", "GIT_COMMITTER_EMAIL=bench@driftless.invalid")
	seed := filepath.Join(dir, "seed")
	if err := writeFiles(seed, files); err != nil {
		f.close()
		return nil, "", err
	}
	head, err := srv.InitFromDir(repoName, seed, repoBranch, repoAuthor)
	if err != nil {
		f.close()
		return nil, "", err
	}
	if _, err := f.git(dir, "clone", "--quiet", f.url(), f.work); err != nil {
		f.close()
		return nil, "", err
	}
	return f, head, nil
}

func (f *fleet) url() string { return f.server.RepoURL(repoName) }

func (f *fleet) close() { _ = f.server.Close() }

// commit writes files into the working clone and commits them; push
// publishes the commit. They are apart so that the timed phase holds only
// the push.
func (f *fleet) commit(files map[string]string, message string) (string, error) {
	if err := writeFiles(f.work, files); err != nil {
		return "", err
	}
	if _, err := f.git(f.work, "add", "--all", "."); err != nil {
		return "", err
	}
	if _, err := f.git(f.work, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message); err != nil {
		return "", err
	}
	return f.git(f.work, "rev-parse", "HEAD")
}

func (f *fleet) push() error {
	_, err := f.git(f.work, "push", "--quiet", "origin", "HEAD:refs/heads/"+repoBranch)
	return err
}

// commitsBetween counts the commits the server's main has after old up to
// head, fetched into the working clone.
func (f *fleet) commitsBetween(old, head string) (int, error) {
	if _, err := f.git(f.work, "fetch", "--quiet", "origin", repoBranch); err != nil {
		return 0, err
	}
	out, err := f.git(f.work, "rev-list", "--count", old+".."+head)
	if err != nil {
		return 0, err
	}
	var n int
	_, err = fmt.Sscan(out, &n)
	return n, err
}

func (f *fleet) git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, f.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// writeFiles writes path → content under dir.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
