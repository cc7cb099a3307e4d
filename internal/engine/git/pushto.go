package git

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrNonFastForward means the remote branch has commits the pushed one does
// not descend from: someone pushed in between. Fetch again and redo.
var ErrNonFastForward = errors.New("non-fast-forward")

// PushOptions says where PushTo sends the local branch.
type PushOptions struct {
	// Branch is the remote branch to update; "" means the checked-out one.
	Branch string
	// Force overwrites the remote branch even when the local head does not
	// descend from it. It is refused for the checked-out branch, whose
	// remote commits the local head may not contain.
	Force bool
	// Options are git push-options (`git push -o k=v`), sent when the
	// server advertises the push-options capability.
	Options map[string]string
	// Refspecs are pushed along with the branch, in the same push:
	// `[+]<src>:<dst>`, where src is HEAD or the checked-out or pushed
	// branch (all the local head) and dst a ref, a short name meaning a
	// branch; a leading + forces the update.
	Refspecs []string
}

// PushTo sends the local branch's head to opts.Branch of the remote, which
// is created when missing. It reports whether the remote moved. An unforced
// push that is not a fast-forward fails with ErrNonFastForward.
func (w *Writer) PushTo(ctx context.Context, opts PushOptions) (bool, error) {
	head := w.Head()
	if head == "" {
		return false, nil
	}
	target := w.branch
	if opts.Branch != "" {
		target = plumbing.NewBranchReferenceName(opts.Branch)
	}
	same := target == w.branch
	if same && opts.Force {
		return false, fmt.Errorf("push branch '%s': refusing to force-push the checked-out branch", target.Short())
	}
	if same && head == w.pushed.String() && len(opts.Options) == 0 && len(opts.Refspecs) == 0 {
		return false, nil
	}
	ctx, cancel := w.opContext(ctx)
	defer cancel()
	spec := w.branch.String() + ":" + target.String()
	if opts.Force {
		spec = "+" + spec
	}
	specs := []config.RefSpec{config.RefSpec(spec)}
	for _, raw := range opts.Refspecs {
		rs, err := w.headRefSpec(raw, target, head)
		if err != nil {
			return false, err
		}
		if rs.Dst("") != target {
			specs = append(specs, rs)
		}
	}
	var said serverOutput
	err := w.repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName:   originName,
		Progress:     &said,
		RefSpecs:     specs,
		Auth:         w.remote.auth,
		CABundle:     w.remote.ca,
		ClientCert:   w.remote.cert,
		ClientKey:    w.remote.key,
		ProxyOptions: w.remote.proxy,
		Options:      opts.Options,
	})
	switch {
	case errors.Is(err, gogit.NoErrAlreadyUpToDate):
		if same {
			w.pushed = plumbing.NewHash(head)
		}
		return false, nil
	case errors.Is(err, gogit.ErrForceNeeded), err != nil && (strings.Contains(err.Error(), "non-fast-forward") ||
		strings.Contains(err.Error(), "fetch first")):
		return false, fmt.Errorf("push branch '%s' to %s: the remote branch has new commits: %w",
			target.Short(), w.remote.redacted, ErrNonFastForward)
	case err != nil:
		if text := said.text(); text != "" {
			err = fmt.Errorf("%w; the server said: %s", err, text)
		}
		return false, remoteError(ctx, fmt.Sprintf("push branch '%s' to", target.Short()), w.remote.redacted, err)
	}
	if same {
		w.pushed = plumbing.NewHash(head)
	}
	return true, nil
}

// maxServerOutput bounds what a push keeps of the server's messages.
const maxServerOutput = 4 << 10

// serverOutput keeps the start of what the server says during a push
// (its hooks' output), for the error when the push is refused.
type serverOutput struct{ buf []byte }

func (o *serverOutput) Write(p []byte) (int, error) {
	if room := maxServerOutput - len(o.buf); room > 0 {
		o.buf = append(o.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// text is the messages on one line, without progress counters.
func (o *serverOutput) text() string {
	var lines []string
	for _, line := range strings.FieldsFunc(string(o.buf), func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.Contains(line, "objects:") && !strings.HasPrefix(line, "Total ") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, " ")
}

// headRefSpec turns a refspec whose source names the local head into one
// from the head's hash: go-git skips sources it cannot find by name, HEAD
// and a pushed branch with no local ref among them.
func (w *Writer) headRefSpec(raw string, pushed plumbing.ReferenceName, head string) (config.RefSpec, error) {
	force := strings.HasPrefix(raw, "+")
	src, dst, ok := strings.Cut(strings.TrimPrefix(raw, "+"), ":")
	if !ok || src == "" || dst == "" {
		return "", fmt.Errorf("refspec '%s': want <src>:<dst>: %w", raw, ErrInvalidReference)
	}
	switch src {
	case "HEAD", w.branch.String(), w.branch.Short(), pushed.String(), pushed.Short():
	default:
		return "", fmt.Errorf("refspec '%s': the source must be HEAD, '%s' or '%s': %w", raw, w.branch.Short(), pushed.Short(), ErrInvalidReference)
	}
	if !strings.HasPrefix(dst, "refs/") {
		dst = plumbing.NewBranchReferenceName(dst).String()
	}
	if err := validRefName("refspec destination", plumbing.ReferenceName(dst)); err != nil {
		return "", err
	}
	spec := head + ":" + dst
	if force {
		spec = "+" + spec
	}
	rs := config.RefSpec(spec)
	if err := rs.Validate(); err != nil {
		return "", fmt.Errorf("refspec '%s': %w: %w", raw, ErrInvalidReference, err)
	}
	return rs, nil
}

// CommitWorktree commits the files at paths (slash-separated, relative to
// the repository) as they are in the working tree, for a caller that
// edited them in place. Message, Author and signing come from req; its
// Files are ignored. It returns the new commit and true, or the current
// head and false when the files equal the committed ones.
func (w *Writer) CommitWorktree(paths []string, req CommitRequest) (string, bool, error) {
	if len(paths) == 0 {
		return w.Head(), false, nil
	}
	if req.Author.Name == "" {
		return "", false, errors.New("commit: the author name must not be empty")
	}
	wt, err := w.repo.Worktree()
	if err != nil {
		return "", false, fmt.Errorf("open worktree: %w", err)
	}
	for _, name := range paths {
		if _, err := w.localPath(name); err != nil {
			return "", false, err
		}
		if _, err := wt.Add(path.Clean(name)); err != nil {
			return "", false, fmt.Errorf("stage %s: %w", name, err)
		}
	}
	when := req.Author.When
	if when.IsZero() {
		when = time.Now()
	}
	sig := &object.Signature{Name: req.Author.Name, Email: req.Author.Email, When: when}
	hash, err := wt.Commit(req.Message, &gogit.CommitOptions{Author: sig, Committer: sig, SignKey: req.SignKey, Signer: req.Signer})
	if errors.Is(err, gogit.ErrEmptyCommit) {
		return w.Head(), false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("commit %q: %w", firstLine(req.Message), err)
	}
	return hash.String(), true, nil
}

// CheckoutReference clones opts.Reference (a branch, tag, semver range,
// name or commit) into dir as Clone does, and returns a Writer whose local
// branch named local starts at the checked-out commit, with that commit.
// The local branch is not on the remote: push it with PushTo and a Branch.
func (c *Client) CheckoutReference(ctx context.Context, dir string, opts CloneOptions, local string) (*Writer, *Commit, error) {
	commit, err := c.Clone(ctx, dir, opts)
	if err != nil {
		return nil, nil, err
	}
	rem, _, err := c.prepare(opts)
	if err != nil {
		return nil, nil, err
	}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open the clone in %s: %w", dir, err)
	}
	branch := plumbing.NewBranchReferenceName(local)
	if err := validRefName("branch", branch); err != nil {
		return nil, nil, err
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(branch, plumbing.NewHash(commit.Hash))); err != nil {
		return nil, nil, fmt.Errorf("create local branch %s: %w", local, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branch)); err != nil {
		return nil, nil, fmt.Errorf("point HEAD at %s: %w", local, err)
	}
	return &Writer{repo: repo, dir: dir, branch: branch, remote: rem, timeout: opts.Timeout}, commit, nil
}
