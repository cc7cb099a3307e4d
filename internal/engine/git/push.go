package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// BranchOptions says which branch of which remote to check out for writing.
type BranchOptions struct {
	// URL of the repository: http://, https:// or ssh://.
	URL string
	// Branch to check out, commit on and push; DefaultBranch when empty.
	Branch string
	// Auth and Proxy as for CloneOptions.
	Auth  *Auth
	Proxy *Proxy
	// Timeout bounds each remote operation (the fetch, each push); 0 means
	// only ctx does.
	Timeout time.Duration
}

// Writer is a local clone of one branch that commits files and pushes them
// back. Make it with Client.CheckoutBranch.
type Writer struct {
	repo    *gogit.Repository
	dir     string
	branch  plumbing.ReferenceName
	remote  *remote
	timeout time.Duration
	// pushed is the branch head the remote has, zero when it has no branch.
	pushed plumbing.Hash
}

// CheckoutBranch fetches the whole history of opts.Branch into dir (empty
// or absent) and checks it out. When the remote is empty or has no such
// branch, the Writer starts the branch from nothing: its first commit has
// no parent and the push creates the branch.
func (c *Client) CheckoutBranch(ctx context.Context, dir string, opts BranchOptions) (*Writer, error) {
	branch := opts.Branch
	if branch == "" {
		branch = DefaultBranch
	}
	rem, _, err := c.prepare(CloneOptions{URL: opts.URL, Reference: Reference{Branch: branch}, Auth: opts.Auth, Proxy: opts.Proxy})
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("clone into %s: directory is not empty", dir)
	}
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		return nil, fmt.Errorf("init repository in %s: %w", dir, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: originName, URLs: []string{rem.url}}); err != nil {
		return nil, fmt.Errorf("configure remote %s: %w", rem.redacted, err)
	}
	w := &Writer{repo: repo, dir: dir, branch: plumbing.NewBranchReferenceName(branch), remote: rem, timeout: opts.Timeout}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, w.branch)); err != nil {
		return nil, fmt.Errorf("point HEAD at %s: %w", branch, err)
	}

	fctx, cancel := w.opContext(ctx)
	defer cancel()
	local := localName(w.branch)
	spec := config.RefSpec("+" + w.branch.String() + ":" + local.String())
	err = (&fetcher{ctx: fctx, repo: repo, remote: rem}).fetch([]config.RefSpec{spec}, 0)
	switch {
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.Is(err, gogit.NoMatchingRefSpecError{}):
		return w, nil // a new branch
	case err != nil:
		return nil, remoteError(fctx, fmt.Sprintf("fetch branch '%s' from", branch), rem.redacted, err)
	}
	ref, err := repo.Reference(local, false)
	if err != nil {
		return nil, fmt.Errorf("branch '%s' not found after fetching it from %s: %w", branch, rem.redacted, ErrReferenceNotFound)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(w.branch, ref.Hash())); err != nil {
		return nil, fmt.Errorf("create local branch %s: %w", branch, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open worktree: %w", err)
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Branch: w.branch, Force: true}); err != nil {
		return nil, fmt.Errorf("check out branch '%s': %w", branch, err)
	}
	w.pushed = ref.Hash()
	return w, nil
}

func (w *Writer) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.timeout > 0 {
		return context.WithTimeout(ctx, w.timeout)
	}
	return context.WithCancel(ctx)
}

// Dir is the working tree.
func (w *Writer) Dir() string { return w.dir }

// Head is the commit the local branch points to, "" before its first commit.
func (w *Writer) Head() string {
	ref, err := w.repo.Reference(w.branch, false)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

// ReadFile returns a file of the working tree (slash-separated path), and
// false when it does not exist.
func (w *Writer) ReadFile(name string) ([]byte, bool) {
	p, err := w.localPath(name)
	if err != nil {
		return nil, false
	}
	data, err := os.ReadFile(p)
	return data, err == nil
}

// CommitRequest is one commit: files to write and who writes them.
type CommitRequest struct {
	// Files maps slash-separated paths inside the repository to contents.
	// Other files are left as they are.
	Files map[string][]byte
	// Message is the commit message.
	Message string
	// Author is the author and committer; When defaults to now.
	Author Signature
	// SignKey, when set, signs the commit with OpenPGP (see LoadSigningKey).
	SignKey *openpgp.Entity
	// Signer, when set, signs the commit instead of SignKey, for example
	// with SSH (see LoadSSHSigningKey).
	Signer Signer
}

// Commit writes the files and commits them on the branch. It returns the
// new commit and true, or the current head and false when the files already
// held those contents (no commit is made).
func (w *Writer) Commit(req CommitRequest) (string, bool, error) {
	if len(req.Files) == 0 {
		return w.Head(), false, nil
	}
	if req.Author.Name == "" {
		return "", false, errors.New("commit: the author name must not be empty")
	}
	wt, err := w.repo.Worktree()
	if err != nil {
		return "", false, fmt.Errorf("open worktree: %w", err)
	}
	changed := false
	for name, content := range req.Files {
		p, err := w.localPath(name)
		if err != nil {
			return "", false, err
		}
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, content) && w.Head() != "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", false, fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return "", false, fmt.Errorf("write %s: %w", name, err)
		}
		if _, err := wt.Add(path.Clean(name)); err != nil {
			return "", false, fmt.Errorf("stage %s: %w", name, err)
		}
		changed = true
	}
	if !changed {
		return w.Head(), false, nil
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

// localPath maps a slash-separated repository path to the working tree,
// refusing paths that leave it or touch .git.
func (w *Writer) localPath(name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if name == "" || path.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") ||
		clean == ".git" || strings.HasPrefix(clean, ".git/") {
		return "", fmt.Errorf("path '%s' must be a file inside the repository", name)
	}
	return filepath.Join(w.dir, filepath.FromSlash(clean)), nil
}

// Push sends the branch to the remote when it has commits the remote does
// not. It reports whether anything was pushed. A remote branch that moved
// since CheckoutBranch is not overwritten: the push fails and the caller
// can start again.
func (w *Writer) Push(ctx context.Context) (bool, error) {
	head := w.Head()
	if head == "" || head == w.pushed.String() {
		return false, nil
	}
	ctx, cancel := w.opContext(ctx)
	defer cancel()
	spec := config.RefSpec(w.branch.String() + ":" + w.branch.String())
	err := w.repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName:   originName,
		RefSpecs:     []config.RefSpec{spec},
		Auth:         w.remote.auth,
		CABundle:     w.remote.ca,
		ClientCert:   w.remote.cert,
		ClientKey:    w.remote.key,
		ProxyOptions: w.remote.proxy,
	})
	switch {
	case errors.Is(err, gogit.NoErrAlreadyUpToDate):
		w.pushed = plumbing.NewHash(head)
		return false, nil
	case err != nil && strings.Contains(err.Error(), "non-fast-forward"):
		return false, fmt.Errorf("push branch '%s' to %s: the remote branch has new commits; run the command again: %w",
			w.branch.Short(), w.remote.redacted, err)
	case err != nil:
		return false, remoteError(ctx, fmt.Sprintf("push branch '%s' to", w.branch.Short()), w.remote.redacted, err)
	}
	w.pushed = plumbing.NewHash(head)
	return true, nil
}

// LoadSigningKey reads an OpenPGP key ring (armored or binary, as
// `gpg --export-secret-keys` writes it), picks the key with keyID (the
// 16-hex-digit long ID of the primary key or of a subkey; the first key
// when empty) and decrypts it with passphrase when it is protected.
func LoadSigningKey(keyRing []byte, passphrase, keyID string) (*openpgp.Entity, error) {
	entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(keyRing))
	if err != nil {
		if entities, err = openpgp.ReadKeyRing(bytes.NewReader(keyRing)); err != nil {
			return nil, fmt.Errorf("read OpenPGP key ring: %w", err)
		}
	}
	var entity *openpgp.Entity
	want := strings.ToUpper(strings.TrimPrefix(keyID, "0x"))
	for _, e := range entities {
		if e.PrivateKey == nil {
			continue
		}
		if want == "" || strings.HasSuffix(strings.ToUpper(e.PrimaryKey.KeyIdString()), want) || hasSubkey(e, want) {
			entity = e
			break
		}
	}
	if entity == nil {
		if want == "" {
			return nil, errors.New("the OpenPGP key ring holds no private key")
		}
		return nil, fmt.Errorf("no private key with ID %s in the OpenPGP key ring", keyID)
	}
	id := entity.PrimaryKey.KeyIdString()
	if entity.PrivateKey.Encrypted {
		if passphrase == "" {
			return nil, fmt.Errorf("the OpenPGP key %s is protected by a passphrase: give the passphrase", id)
		}
		if err := entity.PrivateKey.Decrypt([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("decrypt the OpenPGP key %s: %w", id, err)
		}
	}
	for _, sub := range entity.Subkeys {
		if sub.PrivateKey != nil && sub.PrivateKey.Encrypted && passphrase != "" {
			if err := sub.PrivateKey.Decrypt([]byte(passphrase)); err != nil {
				return nil, fmt.Errorf("decrypt an OpenPGP subkey of %s: %w", id, err)
			}
		}
	}
	return entity, nil
}

func hasSubkey(e *openpgp.Entity, id string) bool {
	for _, s := range e.Subkeys {
		if strings.HasSuffix(strings.ToUpper(s.PublicKey.KeyIdString()), id) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
