package oci

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ListOptions filter the tags List reads.
type ListOptions struct {
	// SemverRange keeps the tags that are versions in the range, listed
	// highest first (`flux list artifacts --filter-semver`).
	SemverRange string
	// Regex keeps the tags it matches (`--filter-regex`).
	Regex string
}

// Listed is one tag of a repository.
type Listed struct {
	// Tag and the Digest it points at.
	Tag, Digest string
	// Source and Revision are the manifest's annotations, "" when absent.
	Source, Revision string
}

// List returns the tags of repo with their digests and source and
// revision annotations: sorted by tag, or highest version first with
// SemverRange. The tags cosign writes (sha256-<hex>, .sig, .att, .sbom)
// are left out.
func (c *Client) List(ctx context.Context, repo Repository, opts ListOptions) ([]Listed, error) {
	var (
		re     *regexp.Regexp
		picker *semverPicker
		err    error
	)
	if opts.Regex != "" {
		if re, err = regexp.Compile(opts.Regex); err != nil {
			return nil, &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "regex", Ref: opts.Regex, Err: err}
		}
	}
	if opts.SemverRange != "" {
		if picker, err = newSemverPicker(opts.SemverRange, ""); err != nil {
			return nil, &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "semver range", Ref: opts.SemverRange, Err: err}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	s, err := c.open(ctx, repo, false, "", "")
	if err != nil {
		return nil, err
	}
	all, err := s.tags(ctx)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range all {
		if signatureTag(t) || (re != nil && !re.MatchString(t)) {
			continue
		}
		tags = append(tags, t)
	}
	if picker != nil {
		matching := picker.matching(tags)
		tags = tags[:0]
		for _, m := range matching {
			tags = append(tags, m.tag)
		}
	}
	out := make([]Listed, 0, len(tags))
	for _, t := range tags {
		l, err := s.listed(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// listed reads the manifest of tag for its digest and annotations.
func (s *session) listed(ctx context.Context, tag string) (Listed, error) {
	m, err := s.manifest(ctx, tag)
	if err != nil {
		return Listed{}, err
	}
	l := Listed{Tag: tag, Digest: m.digest.String()}
	var ann map[string]string
	switch {
	case m.mediaType.IsIndex():
		man, _, err := s.image(ctx, l.Digest)
		if err != nil {
			return Listed{}, err
		}
		ann = man.Annotations
	case m.mediaType.IsImage():
		man, err := v1.ParseManifest(bytes.NewReader(m.raw))
		if err != nil {
			return Listed{}, &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "tag", Ref: tag,
				Detail: fmt.Sprintf("the manifest of media type %q is not valid JSON", m.mediaType), Err: err}
		}
		ann = man.Annotations
	}
	l.Source, l.Revision = ann[AnnotationSource], ann[AnnotationRevision]
	return l, nil
}

// signatureTag tells the tags cosign writes beside an artifact.
func signatureTag(t string) bool {
	rest, ok := strings.CutPrefix(t, "sha256-")
	if !ok {
		return false
	}
	for _, suffix := range []string{".sig", ".att", ".sbom"} {
		rest = strings.TrimSuffix(rest, suffix)
	}
	if len(rest) != 64 {
		return false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
