package git

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// fetcher fetches from one remote into one local repository.
type fetcher struct {
	ctx    context.Context
	repo   *gogit.Repository
	remote *remote
}

const (
	allHeads = config.RefSpec("+refs/heads/*:refs/remotes/origin/*")
	allTags  = config.RefSpec("+refs/tags/*:refs/tags/*")
)

func (f *fetcher) fetch(specs []config.RefSpec, depth int) error {
	err := f.repo.FetchContext(f.ctx, &gogit.FetchOptions{
		RemoteName:   originName,
		RefSpecs:     specs,
		Depth:        depth,
		Auth:         f.remote.auth,
		Tags:         gogit.NoTags,
		CABundle:     f.remote.ca,
		ClientCert:   f.remote.cert,
		ClientKey:    f.remote.key,
		ProxyOptions: f.remote.proxy,
	})
	if errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// localName is where a fetched reference is stored: remote-tracking for
// branches, as is for everything else.
func localName(name plumbing.ReferenceName) plumbing.ReferenceName {
	if name.IsBranch() {
		return plumbing.NewRemoteReferenceName(originName, name.Short())
	}
	return name
}

// ref fetches the single reference name at depth 1 and returns the object
// it points to (a commit, or an annotated tag). what names it in messages.
func (f *fetcher) ref(name plumbing.ReferenceName, what string) (plumbing.Hash, error) {
	local := localName(name)
	spec := config.RefSpec("+" + name.String() + ":" + local.String())
	if err := f.fetch([]config.RefSpec{spec}, 1); err != nil {
		if errors.Is(err, gogit.NoMatchingRefSpecError{}) {
			return plumbing.ZeroHash, fmt.Errorf("%s not found in %s: %w", what, f.remote.redacted, ErrReferenceNotFound)
		}
		return plumbing.ZeroHash, remoteError(f.ctx, "fetch "+what+" from", f.remote.redacted, err)
	}
	r, err := f.repo.Reference(local, false)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s not found after fetching it from %s: %w", what, f.remote.redacted, ErrReferenceNotFound)
	}
	return r.Hash(), nil
}

// commit fetches a commit by hash: shallowly when the server lets clients
// ask for any reachable commit, else by fetching every branch and tag.
func (f *fetcher) commit(hash plumbing.Hash) (plumbing.Hash, error) {
	what := fmt.Sprintf("commit '%s'", hash)
	spec := config.RefSpec("+" + hash.String() + ":refs/remotes/origin/commit")
	err := f.fetch([]config.RefSpec{spec}, 1)
	if errors.Is(err, gogit.ErrExactSHA1NotSupported) {
		err = f.fetch([]config.RefSpec{allHeads, allTags}, 0)
	}
	if err != nil {
		return plumbing.ZeroHash, remoteError(f.ctx, "fetch "+what+" from", f.remote.redacted, err)
	}
	if _, err := f.repo.CommitObject(hash); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s not found in %s: %w", what, f.remote.redacted, ErrReferenceNotFound)
	}
	return hash, nil
}

// commitOnBranch fetches the whole history of branch and checks that hash
// is on it.
func (f *fetcher) commitOnBranch(hash plumbing.Hash, branch string) (plumbing.Hash, error) {
	name := plumbing.NewBranchReferenceName(branch)
	what := fmt.Sprintf("branch '%s'", branch)
	local := localName(name)
	spec := config.RefSpec("+" + name.String() + ":" + local.String())
	if err := f.fetch([]config.RefSpec{spec}, 0); err != nil {
		if errors.Is(err, gogit.NoMatchingRefSpecError{}) {
			return plumbing.ZeroHash, fmt.Errorf("%s not found in %s: %w", what, f.remote.redacted, ErrReferenceNotFound)
		}
		return plumbing.ZeroHash, remoteError(f.ctx, "fetch "+what+" from", f.remote.redacted, err)
	}
	notOnBranch := fmt.Errorf("commit '%s' is not on %s in %s: %w", hash, what, f.remote.redacted, ErrReferenceNotFound)
	tipRef, err := f.repo.Reference(local, false)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s not found after fetching it from %s: %w", what, f.remote.redacted, ErrReferenceNotFound)
	}
	target, err := f.repo.CommitObject(hash)
	if err != nil {
		return plumbing.ZeroHash, notOnBranch
	}
	tip, err := f.repo.CommitObject(tipRef.Hash())
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read tip of %s: %w", what, err)
	}
	if ok, err := target.IsAncestor(tip); err != nil || !ok {
		return plumbing.ZeroHash, notOnBranch
	}
	return hash, nil
}

// list returns the remote's references (ls-remote), with the commits
// annotated tags point to under "<name>^{}".
func list(ctx context.Context, rem *remote) (map[string]plumbing.Hash, error) {
	r := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: originName, URLs: []string{rem.url}})
	refs, err := r.ListContext(ctx, &gogit.ListOptions{
		Auth:          rem.auth,
		CABundle:      rem.ca,
		ClientCert:    rem.cert,
		ClientKey:     rem.key,
		ProxyOptions:  rem.proxy,
		PeelingOption: gogit.AppendPeeled,
	})
	if err != nil {
		return nil, remoteError(ctx, "list references of", rem.redacted, err)
	}
	out := make(map[string]plumbing.Hash, len(refs))
	for _, ref := range refs {
		if ref.Type() == plumbing.HashReference {
			out[ref.Name().String()] = ref.Hash()
		}
	}
	return out, nil
}

// highestTag picks the tag with the highest version matching the semver
// range; among equal versions ("v1.0.0", "1.0.0") the first by name wins.
func highestTag(refs map[string]plumbing.Hash, rng, redactedURL string) (string, error) {
	constraint, err := semver.NewConstraint(rng)
	if err != nil {
		return "", fmt.Errorf("%w: semver range '%s': %w", ErrInvalidReference, rng, err)
	}
	var best *semver.Version
	var bestTag string
	for name := range refs {
		tag, ok := strings.CutPrefix(name, "refs/tags/")
		if !ok || strings.HasSuffix(tag, "^{}") {
			continue
		}
		v, err := semver.NewVersion(tag)
		if err != nil || !constraint.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && tag < bestTag) {
			best, bestTag = v, tag
		}
	}
	if best == nil {
		return "", fmt.Errorf("no tag matches semver range '%s' in %s: %w", rng, redactedURL, ErrReferenceNotFound)
	}
	return bestTag, nil
}

// semverTag lists the remote's tags and picks the highest match.
func (c *Client) semverTag(ctx context.Context, rem *remote, rng string) (string, error) {
	refs, err := list(ctx, rem)
	if err != nil {
		return "", err
	}
	return highestTag(refs, rng, rem.redacted)
}

// Resolve asks the remote which commit opts.Reference points to, without
// cloning: one reference listing (ls-remote), no pack transfer. It returns
// the same hash and reference name (Commit.Reference) a Clone would, so a
// caller can compare the revision with the last artifact and skip the clone
// (Flux's OptimizedGitClones). It cannot check a commit, with or without a
// branch, and returns ErrNotResolvable for one: clone instead.
func (c *Client) Resolve(ctx context.Context, opts CloneOptions) (hash, refName string, err error) {
	rem, _, err := c.prepare(opts)
	if err != nil {
		return "", "", err
	}
	ref := opts.Reference
	if ref.Commit != "" {
		return "", "", fmt.Errorf("resolve %s: %w", ref, ErrNotResolvable)
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	refs, err := list(ctx, rem)
	if err != nil {
		return "", "", err
	}
	var full, what string
	switch {
	case ref.Name != "":
		full, refName, what = ref.Name, ref.Name, ref.String()
	case ref.SemVer != "":
		tag, err := highestTag(refs, ref.SemVer, rem.redacted)
		if err != nil {
			return "", "", err
		}
		full, refName, what = plumbing.NewTagReferenceName(tag).String(), tag, fmt.Sprintf("tag '%s'", tag)
	case ref.Tag != "":
		full, refName, what = plumbing.NewTagReferenceName(ref.Tag).String(), ref.Tag, ref.String()
	default:
		full, refName, what = plumbing.NewBranchReferenceName(ref.branch()).String(), ref.branch(), ref.String()
	}
	h, ok := refs[full+"^{}"]
	if !ok {
		h, ok = refs[full]
	}
	if !ok {
		return "", "", fmt.Errorf("%s not found in %s: %w", what, rem.redacted, ErrReferenceNotFound)
	}
	return h.String(), refName, nil
}
