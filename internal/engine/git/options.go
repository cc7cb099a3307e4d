package git

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/go-git/go-git/v5/plumbing"
)

// DefaultBranch is checked out when a Reference names nothing.
const DefaultBranch = "master"

// Reference selects what to check out, with Flux's precedence: Commit, then
// Name, then SemVer, then Tag, then Branch (default DefaultBranch). Commit
// may be combined with Branch, which is then cloned and must contain it.
type Reference struct {
	Branch string
	Tag    string
	// SemVer is a range (Masterminds syntax); the highest tag matching it wins.
	SemVer string
	// Name is a full reference: refs/heads/main, refs/tags/v1, refs/pull/1/head.
	Name string
	// Commit is a full commit hash (40 hex digits, or 64 for SHA-256 repositories).
	Commit string
}

// String describes the reference for messages, e.g. "branch 'main'".
func (r Reference) String() string {
	switch {
	case r.Commit != "" && r.Branch != "":
		return fmt.Sprintf("commit '%s' on branch '%s'", r.Commit, r.Branch)
	case r.Commit != "":
		return fmt.Sprintf("commit '%s'", r.Commit)
	case r.Name != "":
		return fmt.Sprintf("ref '%s'", r.Name)
	case r.SemVer != "":
		return fmt.Sprintf("semver range '%s'", r.SemVer)
	case r.Tag != "":
		return fmt.Sprintf("tag '%s'", r.Tag)
	default:
		return fmt.Sprintf("branch '%s'", r.branch())
	}
}

func (r Reference) branch() string {
	if r.Branch == "" {
		return DefaultBranch
	}
	return r.Branch
}

// validate checks the field that takes precedence, as the others are ignored.
func (r Reference) validate() error {
	switch {
	case r.Commit != "":
		if _, err := hex.DecodeString(r.Commit); err != nil || (len(r.Commit) != 40 && len(r.Commit) != 64) {
			return fmt.Errorf("%w: commit '%s' is not a full hexadecimal commit hash", ErrInvalidReference, r.Commit)
		}
		if r.Branch != "" {
			return validRefName("branch", plumbing.NewBranchReferenceName(r.Branch))
		}
	case r.Name != "":
		if !strings.HasPrefix(r.Name, "refs/") {
			return fmt.Errorf("%w: name '%s' must be a full reference starting with refs/, such as refs/heads/main", ErrInvalidReference, r.Name)
		}
		return validRefName("name", plumbing.ReferenceName(r.Name))
	case r.SemVer != "":
		if _, err := semver.NewConstraint(r.SemVer); err != nil {
			return fmt.Errorf("%w: semver range '%s': %w", ErrInvalidReference, r.SemVer, err)
		}
	case r.Tag != "":
		return validRefName("tag", plumbing.NewTagReferenceName(r.Tag))
	default:
		return validRefName("branch", plumbing.NewBranchReferenceName(r.branch()))
	}
	return nil
}

func validRefName(kind string, name plumbing.ReferenceName) error {
	if err := name.Validate(); err != nil {
		return fmt.Errorf("%w: %s '%s' is not a valid Git reference name", ErrInvalidReference, kind, name.Short())
	}
	return nil
}

// CloneOptions says what to fetch from where.
type CloneOptions struct {
	// URL of the repository: http://, https:// or ssh://.
	URL string
	// Reference to check out.
	Reference Reference
	// Auth from AuthFromSecret; nil for anonymous HTTP(S). ssh URLs need it.
	Auth *Auth
	// Proxy from ProxyFromSecret; nil for none (HTTP(S) then honours the
	// HTTPS_PROXY/NO_PROXY environment).
	Proxy *Proxy
	// Timeout bounds the whole operation; 0 means only ctx does.
	Timeout time.Duration
	// RecurseSubmodules also checks out submodules (up to 10 levels deep).
	// Submodules on the same host and port as URL get Auth; others are
	// fetched anonymously.
	RecurseSubmodules bool
	// SparseCheckout, when set, checks out only these directories (paths
	// relative to the repository root). Each must exist in the commit.
	SparseCheckout []string
}

// parseURL validates a remote URL: http, https or ssh, with a host.
func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: no URL given", ErrInvalidURL)
	}
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("%w: the URL has no scheme: use http://, https:// or ssh:// (scp-like git@host:path is not supported)", ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot parse URL: %w", ErrInvalidURL, redactURLError(err))
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	default:
		return nil, fmt.Errorf("%w: %s: scheme %q is not supported, use http, https or ssh (scp-like git@host:path is not supported)",
			ErrInvalidURL, u.Redacted(), u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %s has no host", ErrInvalidURL, u.Redacted())
	}
	if u.Path == "" || u.Path == "/" {
		return nil, fmt.Errorf("%w: %s has no repository path", ErrInvalidURL, u.Redacted())
	}
	return u, nil
}

// redactURLError keeps url.Parse's reason but not the URL, which may carry
// a password.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// sparsePaths cleans and checks the sparse checkout directories.
func sparsePaths(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		clean := path.Clean(strings.TrimPrefix(strings.TrimSpace(d), "./"))
		if d == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("%w: sparse checkout path '%s' must be a directory inside the repository", ErrInvalidReference, d)
		}
		if clean == "." {
			return nil, nil // the whole repository
		}
		out = append(out, clean)
	}
	return out, nil
}

// Signature is the author, committer or tagger of an object.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Commit is the checked-out commit.
type Commit struct {
	// Hash is the commit's full hash.
	Hash string
	// Reference is the named pointer of the revision: the short branch or tag
	// name ("main", "v1.2.0", also for semver), the full name when the
	// Reference used Name ("refs/pull/1/head"), "" for a bare commit.
	Reference string
	Author    Signature
	Committer Signature
	Message   string
	// Encoded is the commit object exactly as signed: the raw object without
	// its gpgsig header. Signature is that header's value (an armored
	// OpenPGP or SSH signature), "" when unsigned.
	Encoded   []byte
	Signature string
	// Tag is the annotated tag the reference pointed to, if any.
	Tag *Tag
}

// Tag is an annotated tag.
type Tag struct {
	// Name is the tag's short name.
	Name string
	// Hash is the tag object's hash.
	Hash    string
	Tagger  Signature
	Message string
	// Encoded is the tag object exactly as signed (without the trailing
	// signature); Signature is that signature, "" when unsigned.
	Encoded   []byte
	Signature string
}

// Revision formats the commit as Flux's RFC-0005 revision with
// artifact.FormatGitRevision: "<reference>@sha1:<hash>", or "sha1:<hash>"
// without a reference.
func (c *Commit) Revision() (string, error) {
	return artifact.FormatGitRevision(c.Reference, c.Hash)
}

// Subject is the first line of the commit message.
func (c *Commit) Subject() string {
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return subject
}
