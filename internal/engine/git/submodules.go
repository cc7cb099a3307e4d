package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxSubmoduleDepth bounds nested submodules, as git's default recursion.
const maxSubmoduleDepth = 10

// submodules checks out, into dir, every submodule the HEAD commit of repo
// records (inside the sparse directories, when set), recursively. parent is
// the URL repo was fetched from; relative submodule URLs resolve against it.
func (c *Client) submodules(ctx context.Context, repo *gogit.Repository, dir string, parent *url.URL,
	opts CloneOptions, sparse []string, level int) error {
	head, err := repo.Head()
	if err != nil {
		return fmt.Errorf("read HEAD of %s: %w", dir, err)
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return fmt.Errorf("read commit %s: %w", head.Hash(), err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return fmt.Errorf("read tree of %s: %w", head.Hash(), err)
	}
	modules, err := readModules(tree)
	if err != nil || modules == nil {
		return err
	}
	names := make([]string, 0, len(modules.Submodules))
	for name := range modules.Submodules {
		names = append(names, name)
	}
	sort.Strings(names)
	top, _ := parseURL(opts.URL)
	for _, name := range names {
		sub := modules.Submodules[name]
		p := path.Clean(sub.Path)
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return fmt.Errorf("submodule '%s': path '%s' leaves the repository", name, sub.Path)
		}
		if len(sparse) > 0 && !within(p, sparse) {
			continue
		}
		entry, err := tree.FindEntry(p)
		if err != nil || entry.Mode != filemode.Submodule {
			continue // declared in .gitmodules but not recorded: git skips it too
		}
		if level > maxSubmoduleDepth {
			return fmt.Errorf("submodule '%s': submodules are nested more than %d levels deep", p, maxSubmoduleDepth)
		}
		if err := c.submodule(ctx, filepath.Join(dir, filepath.FromSlash(p)), p, sub.URL, entry.Hash, parent, top, opts, level); err != nil {
			return err
		}
	}
	return nil
}

// submodule fetches and checks out one submodule at hash into dir.
func (c *Client) submodule(ctx context.Context, dir, p, rawURL string, hash plumbing.Hash, parent, top *url.URL,
	opts CloneOptions, level int) error {
	u, err := submoduleURL(parent, rawURL)
	if err != nil {
		return fmt.Errorf("submodule '%s': %w", p, err)
	}
	var auth *Auth
	if u.Scheme == top.Scheme && u.Host == top.Host {
		auth = opts.Auth
	}
	rem, err := newRemote(u, auth, opts.Proxy, sshSettings{kex: c.SSHKeyExchanges, hostKeyAlgos: c.SSHHostKeyAlgorithms})
	if err != nil {
		return fmt.Errorf("submodule '%s': %w", p, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("submodule '%s': %w", p, err)
	}
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		return fmt.Errorf("submodule '%s': init: %w", p, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: originName, URLs: []string{rem.url}}); err != nil {
		return fmt.Errorf("submodule '%s': configure remote: %w", p, err)
	}
	f := &fetcher{ctx: ctx, repo: repo, remote: rem}
	if _, err := f.commit(hash); err != nil {
		return fmt.Errorf("submodule '%s': %w", p, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("submodule '%s': %w", p, err)
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Hash: hash, Force: true}); err != nil {
		return fmt.Errorf("submodule '%s': check out %s: %w", p, hash, err)
	}
	return c.submodules(ctx, repo, dir, u, opts, nil, level+1)
}

// readModules parses .gitmodules from tree; nil when there is none.
func readModules(tree *object.Tree) (*config.Modules, error) {
	f, err := tree.File(".gitmodules")
	if errors.Is(err, object.ErrFileNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read .gitmodules: %w", err)
	}
	r, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("read .gitmodules: %w", err)
	}
	defer func() { _ = r.Close() }()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read .gitmodules: %w", err)
	}
	m := config.NewModules()
	if err := m.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("parse .gitmodules: %w", err)
	}
	return m, nil
}

// submoduleURL resolves a .gitmodules URL: relative ones ("../lib.git")
// against the parent's URL, scp-like ones as ssh URLs. Local paths and
// file:// URLs are refused: they would read the controller's disk.
func submoduleURL(parent *url.URL, raw string) (*url.URL, error) {
	if strings.HasPrefix(raw, "./") || strings.HasPrefix(raw, "../") {
		u := *parent
		u.Path = path.Join(parent.Path, raw)
		u.RawPath = ""
		return parseURL(u.String())
	}
	if strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "file:") {
		return nil, fmt.Errorf("%w: local submodule URLs such as '%s' are not allowed, use http, https or ssh", ErrInvalidURL, raw)
	}
	if !strings.Contains(raw, "://") {
		// git's scp-like shorthand user@host:path means ssh.
		if host, p, ok := strings.Cut(raw, ":"); ok && host != "" && p != "" && !strings.Contains(host, "/") {
			raw = "ssh://" + host + "/" + strings.TrimPrefix(p, "/")
		}
	}
	return parseURL(raw)
}

// within reports whether p is one of dirs or below one.
func within(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}
