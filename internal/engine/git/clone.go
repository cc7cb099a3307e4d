package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Client clones repositories. The zero value is ready to use.
type Client struct {
	// SSHKeyExchanges and SSHHostKeyAlgorithms override the SSH library's
	// defaults (Flux's --ssh-kex-algos and --ssh-hostkey-algos). Without
	// SSHHostKeyAlgorithms the algorithms of the host's known_hosts keys
	// are offered.
	SSHKeyExchanges      []string
	SSHHostKeyAlgorithms []string
}

// originName is the remote every clone fetches from.
const originName = "origin"

// Clone fetches opts.Reference from opts.URL into dir (which must be empty
// or absent) and checks it out: a shallow, single-reference fetch wherever
// the reference allows. On error dir may hold a partial clone; the caller
// removes it.
func (c *Client) Clone(ctx context.Context, dir string, opts CloneOptions) (*Commit, error) {
	rem, u, err := c.prepare(opts)
	if err != nil {
		return nil, err
	}
	sparse, err := sparsePaths(opts.SparseCheckout)
	if err != nil {
		return nil, err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
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

	f := &fetcher{ctx: ctx, repo: repo, remote: rem}
	hash, display, err := c.fetchReference(f, opts.Reference)
	if err != nil {
		return nil, err
	}

	commit, err := describe(repo, hash, display)
	if err != nil {
		return nil, err
	}
	if err := checkout(repo, commit, sparse); err != nil {
		return nil, err
	}
	if opts.RecurseSubmodules {
		if err := c.submodules(ctx, repo, dir, u, opts, sparse, 1); err != nil {
			return nil, err
		}
	}
	return commit, nil
}

// fetchReference fetches what ref selects, by precedence, and returns the
// object it points to and the reference name for the revision.
func (c *Client) fetchReference(f *fetcher, ref Reference) (plumbing.Hash, string, error) {
	switch {
	case ref.Commit != "" && ref.Branch != "":
		hash, err := f.commitOnBranch(plumbing.NewHash(ref.Commit), ref.Branch)
		return hash, ref.Branch, err
	case ref.Commit != "":
		hash, err := f.commit(plumbing.NewHash(ref.Commit))
		return hash, "", err
	case ref.Name != "":
		hash, err := f.ref(plumbing.ReferenceName(ref.Name), ref.String())
		return hash, ref.Name, err
	case ref.SemVer != "":
		tag, err := c.semverTag(f.ctx, f.remote, ref.SemVer)
		if err != nil {
			return plumbing.ZeroHash, "", err
		}
		hash, err := f.ref(plumbing.NewTagReferenceName(tag), fmt.Sprintf("tag '%s'", tag))
		return hash, tag, err
	case ref.Tag != "":
		hash, err := f.ref(plumbing.NewTagReferenceName(ref.Tag), ref.String())
		return hash, ref.Tag, err
	default:
		hash, err := f.ref(plumbing.NewBranchReferenceName(ref.branch()), ref.String())
		return hash, ref.branch(), err
	}
}

// prepare validates the options shared by Clone and Resolve.
func (c *Client) prepare(opts CloneOptions) (*remote, *url.URL, error) {
	u, err := parseURL(opts.URL)
	if err != nil {
		return nil, nil, err
	}
	if err := opts.Reference.validate(); err != nil {
		return nil, nil, err
	}
	rem, err := newRemote(u, opts.Auth, opts.Proxy, sshSettings{kex: c.SSHKeyExchanges, hostKeyAlgos: c.SSHHostKeyAlgorithms})
	if err != nil {
		return nil, nil, err
	}
	return rem, u, nil
}

// describe peels hash (a commit or annotated tag) to its commit and builds
// the Commit, with the payloads signature verification needs.
func describe(repo *gogit.Repository, hash plumbing.Hash, display string) (*Commit, error) {
	var tag *Tag
	for range 10 {
		t, err := repo.TagObject(hash)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tag %s: %w", hash, err)
		}
		if tag == nil {
			if tag, err = tagInfo(t); err != nil {
				return nil, err
			}
		}
		if t.TargetType != plumbing.TagObject && t.TargetType != plumbing.CommitObject {
			return nil, fmt.Errorf("%w: tag '%s' points to a %s, not a commit", ErrReferenceNotFound, t.Name, t.TargetType)
		}
		hash = t.Target
	}
	c, err := repo.CommitObject(hash)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", hash, err)
	}
	payload, err := encodedWithoutSignature(c.EncodeWithoutSignature)
	if err != nil {
		return nil, fmt.Errorf("encode commit %s: %w", hash, err)
	}
	return &Commit{
		Hash:      c.Hash.String(),
		Reference: display,
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
		Encoded:   payload,
		Signature: c.PGPSignature,
		Tag:       tag,
	}, nil
}

func tagInfo(t *object.Tag) (*Tag, error) {
	payload, err := encodedWithoutSignature(t.EncodeWithoutSignature)
	if err != nil {
		return nil, fmt.Errorf("encode tag %s: %w", t.Name, err)
	}
	return &Tag{
		Name:      t.Name,
		Hash:      t.Hash.String(),
		Tagger:    Signature{Name: t.Tagger.Name, Email: t.Tagger.Email, When: t.Tagger.When},
		Message:   t.Message,
		Encoded:   payload,
		Signature: t.PGPSignature,
	}, nil
}

func encodedWithoutSignature(encode func(plumbing.EncodedObject) error) ([]byte, error) {
	obj := &plumbing.MemoryObject{}
	if err := encode(obj); err != nil {
		return nil, err
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	buf := make([]byte, obj.Size())
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// checkout writes the commit's files, only the sparse directories when set.
func checkout(repo *gogit.Repository, c *Commit, sparse []string) error {
	hash := plumbing.NewHash(c.Hash)
	if len(sparse) > 0 {
		commit, err := repo.CommitObject(hash)
		if err != nil {
			return fmt.Errorf("read commit %s: %w", c.Hash, err)
		}
		tree, err := commit.Tree()
		if err != nil {
			return fmt.Errorf("read tree of %s: %w", c.Hash, err)
		}
		for _, d := range sparse {
			if _, err := tree.Tree(d); err != nil {
				return fmt.Errorf("sparse checkout directory '%s' does not exist in commit %s", d, c.Hash)
			}
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("open worktree: %w", err)
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Hash: hash, Force: true, SparseCheckoutDirectories: sparse}); err != nil {
		return fmt.Errorf("check out commit %s: %w", c.Hash, err)
	}
	return nil
}
