package gittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Identity and defaults of every repository made by this package.
const (
	// AuthorName and AuthorEmail sign every commit and annotated tag.
	AuthorName  = "Driftless Test"
	AuthorEmail = "test@driftless.invalid"
	// DefaultBranch is the branch HEAD of a new repository points to; it is
	// also the branch Flux checks out when a GitRepository names no ref.
	DefaultBranch = "master"
	// DefaultRepoName is the directory NewRepo creates under its root.
	DefaultRepoName = "repo.git"
)

// epochUnix is the date (2024-01-01T00:00:00Z) of the first object a Repo
// writes; every further commit or tag is one second later, so the same
// sequence of calls yields the same hashes on every run.
const epochUnix = 1704067200

// Repo is a bare repository on disk. Its methods drive the real git binary
// and fail the test on any error; they are safe for concurrent use.
type Repo struct {
	t    testing.TB
	root string
	name string
	dir  string
	home string

	mu    sync.Mutex
	clock int64
}

// NewRepo creates an empty bare repository named DefaultRepoName in a fresh
// temporary directory; serve that directory (Repo.Root) with NewHTTPServer or
// NewSSHServer.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	return NewRepoAt(t, t.TempDir(), DefaultRepoName)
}

// NewRepoAt creates an empty bare repository named name (for example
// "team/app.git") under root, so that one server can serve several
// repositories, as submodules need.
func NewRepoAt(t testing.TB, root, name string) *Repo {
	t.Helper()
	clean := filepath.Clean(filepath.FromSlash(name))
	if name == "" || filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		t.Fatalf("gittest: repository name %q must be a relative path inside the root", name)
	}
	r := &Repo{t: t, root: root, name: filepath.ToSlash(clean), dir: filepath.Join(root, clean), home: t.TempDir()}
	if err := os.MkdirAll(filepath.Dir(r.dir), 0o755); err != nil {
		t.Fatalf("gittest: create %s: %v", filepath.Dir(r.dir), err)
	}
	r.runIn("", nil, nil, "init", "--quiet", "--bare", "--initial-branch="+DefaultBranch, r.dir)
	return r
}

// Root is the directory that holds the repository; servers serve it.
func (r *Repo) Root() string { return r.root }

// Name is the repository path relative to Root, as used in server URLs.
func (r *Repo) Name() string { return r.name }

// Dir is the path of the bare repository.
func (r *Repo) Dir() string { return r.dir }

// Head returns the commit branch points to, or "" when the branch does not exist.
func (r *Repo) Head(branch string) string {
	r.t.Helper()
	return r.resolve("refs/heads/" + branch)
}

// Resolve returns the object a full reference name points to (not peeled),
// or "" when it does not exist.
func (r *Repo) Resolve(ref string) string {
	r.t.Helper()
	return r.resolve(ref)
}

// Branch creates or moves branch name to from (a branch name or commit hash).
func (r *Repo) Branch(name, from string) {
	r.t.Helper()
	hash := r.run(nil, nil, "rev-parse", "--verify", "--quiet", from+"^{commit}")
	r.run(nil, nil, "update-ref", "refs/heads/"+name, hash)
}

// DeleteRef removes a full reference such as refs/heads/dev or refs/tags/v1.
func (r *Repo) DeleteRef(ref string) {
	r.t.Helper()
	r.run(nil, nil, "update-ref", "-d", ref)
}

// SetRef points any full reference (refs/pull/1/head, refs/heads/x) at hash.
func (r *Repo) SetRef(ref, hash string) {
	r.t.Helper()
	r.run(nil, nil, "update-ref", ref, hash)
}

// Tag creates tag name on hash: lightweight, or annotated with the message
// "<name>\n" when annotated is true. It returns the hash of the tag ref's
// target (the tag object when annotated, else hash).
func (r *Repo) Tag(name, hash string, annotated bool) string {
	r.t.Helper()
	if !annotated {
		r.run(nil, nil, "update-ref", "refs/tags/"+name, hash)
		return hash
	}
	r.mu.Lock()
	env := r.dateEnv()
	r.mu.Unlock()
	r.run(nil, env, "tag", "--annotate", "--message="+name, name, hash)
	return r.resolve("refs/tags/" + name)
}

// CommitFiles writes files (slash-separated path to content, mode 0644) on
// top of branch, creating the branch when missing, and returns the new commit.
func (r *Repo) CommitFiles(branch string, files map[string]string, msg string) string {
	r.t.Helper()
	return r.commit(branch, msg, SignWith{}, filesEdit(files, "100644"))
}

// CommitExecutables is CommitFiles with mode 0755.
func (r *Repo) CommitExecutables(branch string, files map[string]string, msg string) string {
	r.t.Helper()
	return r.commit(branch, msg, SignWith{}, filesEdit(files, "100755"))
}

// RemoveFiles deletes files or whole directories from branch. A path that is
// not in the branch fails the test.
func (r *Repo) RemoveFiles(branch string, paths []string, msg string) string {
	r.t.Helper()
	return r.commit(branch, msg, SignWith{}, func(ix *indexEditor) {
		for _, p := range paths {
			ix.remove(p)
		}
	})
}

// CommitSymlink adds a symbolic link at path pointing to target (which may
// well point outside the repository) and returns the new commit.
func (r *Repo) CommitSymlink(branch, path, target, msg string) string {
	r.t.Helper()
	return r.commit(branch, msg, SignWith{}, func(ix *indexEditor) {
		ix.add(path, "120000", ix.blob(target))
	})
}

// AddSubmodule records a submodule at path, cloned from url at commit hash,
// and returns the new commit of branch. url is written to .gitmodules as is:
// pass the URL a client will use (for example HTTPServer.RepoURL) or a
// relative one such as "../other.git".
func (r *Repo) AddSubmodule(branch, path, url, hash, msg string) string {
	r.t.Helper()
	return r.commit(branch, msg, SignWith{}, func(ix *indexEditor) {
		modules := ix.read(".gitmodules")
		modules += fmt.Sprintf("[submodule %q]\n\tpath = %s\n\turl = %s\n", path, path, url)
		ix.add(".gitmodules", "100644", ix.blob(modules))
		ix.add(path, "160000", hash)
	})
}

// CommitSigned is CommitFiles with the commit signed by key.
func (r *Repo) CommitSigned(branch string, files map[string]string, msg string, key SignWith) string {
	r.t.Helper()
	return r.commit(branch, msg, key, filesEdit(files, "100644"))
}

func filesEdit(files map[string]string, mode string) func(*indexEditor) {
	return func(ix *indexEditor) {
		for p, content := range files {
			ix.add(p, mode, ix.blob(content))
		}
	}
}

// indexEditor edits a temporary index that starts as the parent's tree.
type indexEditor struct {
	r      *Repo
	env    []string
	parent string
}

func (ix *indexEditor) blob(content string) string {
	ix.r.t.Helper()
	return ix.r.run([]byte(content), ix.env, "hash-object", "-w", "--stdin")
}

func (ix *indexEditor) add(path, mode, hash string) {
	ix.r.t.Helper()
	ix.r.run(nil, ix.env, "update-index", "--add", "--cacheinfo", mode+","+hash+","+path)
}

func (ix *indexEditor) remove(path string) {
	ix.r.t.Helper()
	ix.r.run(nil, ix.env, "--work-tree="+ix.r.home, "rm", "--cached", "-r", "--quiet", "--", path)
}

// read returns the content of path in the parent commit, or "".
func (ix *indexEditor) read(path string) string {
	ix.r.t.Helper()
	if ix.parent == "" {
		return ""
	}
	out, err := ix.r.output(nil, nil, "cat-file", "blob", ix.parent+":"+path)
	if err != nil {
		return ""
	}
	return out
}

// commit builds a commit from the branch's tree changed by edit, signs it
// when key says so, and moves the branch to it.
func (r *Repo) commit(branch, msg string, key SignWith, edit func(*indexEditor)) string {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()

	index := filepath.Join(r.home, "index")
	if err := os.Remove(index); err != nil && !os.IsNotExist(err) {
		r.t.Fatalf("gittest: reset index: %v", err)
	}
	ix := &indexEditor{r: r, env: []string{"GIT_INDEX_FILE=" + index}, parent: r.resolve("refs/heads/" + branch)}
	if ix.parent != "" {
		r.run(nil, ix.env, "read-tree", ix.parent)
	} else {
		r.run(nil, ix.env, "read-tree", "--empty")
	}
	edit(ix)
	tree := r.run(nil, ix.env, "write-tree")

	args := []string{"commit-tree", tree, "-m", msg}
	if ix.parent != "" {
		args = append(args, "-p", ix.parent)
	}
	env := r.dateEnv()
	var hash string
	switch {
	case key.SSH != nil:
		signArgs := append(key.SSH.gitSigningConfig(r.t), append(args, "-S")...)
		hash = r.run(nil, env, signArgs...)
	case key.PGP != nil:
		unsigned := r.run(nil, env, args...)
		raw, err := r.output(nil, nil, "cat-file", "commit", unsigned)
		if err != nil {
			r.t.Fatalf("gittest: read commit %s: %v", unsigned, err)
		}
		signed := insertCommitSignature(raw, key.PGP.sign(r.t, []byte(raw)))
		hash = r.run([]byte(signed), nil, "hash-object", "-t", "commit", "-w", "--stdin")
	default:
		hash = r.run(nil, env, args...)
	}
	r.run(nil, nil, "update-ref", "refs/heads/"+branch, hash)
	return hash
}

// insertCommitSignature adds a gpgsig header to a raw commit, as git does.
func insertCommitSignature(raw, sig string) string {
	end := strings.Index(raw, "\n\n")
	header := "gpgsig " + strings.ReplaceAll(strings.TrimSuffix(sig, "\n"), "\n", "\n ") + "\n"
	return raw[:end+1] + header + raw[end+1:]
}

// dateEnv returns the author and committer dates of the next object. The
// caller holds r.mu.
func (r *Repo) dateEnv() []string {
	date := strconv.FormatInt(epochUnix+r.clock, 10) + " +0000"
	r.clock++
	return []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}
}

func (r *Repo) resolve(ref string) string {
	r.t.Helper()
	out, err := r.output(nil, nil, "rev-parse", "--verify", "--quiet", ref)
	if err != nil {
		return ""
	}
	return out
}

// run runs git against the bare repository and fails the test on error.
func (r *Repo) run(stdin []byte, env []string, args ...string) string {
	r.t.Helper()
	return r.runIn(r.dir, stdin, env, args...)
}

func (r *Repo) runIn(gitDir string, stdin []byte, env []string, args ...string) string {
	r.t.Helper()
	out, err := r.outputIn(gitDir, stdin, env, args...)
	if err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
	return out
}

func (r *Repo) output(stdin []byte, env []string, args ...string) (string, error) {
	return r.outputIn(r.dir, stdin, env, args...)
}

func (r *Repo) outputIn(gitDir string, stdin []byte, env []string, args ...string) (string, error) {
	full := []string{"-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false", "-c", "core.autocrlf=false"}
	if gitDir != "" {
		full = append(full, "--git-dir="+gitDir)
	}
	full = append(full, args...)
	cmd := exec.Command("git", full...)
	cmd.Env = append(gitEnv(r.home), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	out := stdout.String()
	if len(args) > 0 && args[0] == "cat-file" {
		return out, nil
	}
	return strings.TrimSpace(out), nil
}

// gitEnv is the environment of every git process this package starts: no
// user or system configuration, a fixed identity, no prompts.
func gitEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=" + AuthorName,
		"GIT_AUTHOR_EMAIL=" + AuthorEmail,
		"GIT_COMMITTER_NAME=" + AuthorName,
		"GIT_COMMITTER_EMAIL=" + AuthorEmail,
	}
}
