package oci

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultTag is resolved when a Selector names nothing.
const DefaultTag = "latest"

// Selector chooses an artifact in a repository, as an OCIRepository's
// spec.ref: Digest wins over SemVer, SemVer over Tag, and an empty Selector
// means the tag "latest".
type Selector struct {
	// Digest pins a manifest ("sha256:<hex>").
	Digest string
	// SemVer is a range (Masterminds syntax, ">=1.0.0 <2.0.0"); the
	// highest matching tag wins. Prereleases match only when the range
	// asks for them ("-0").
	SemVer string
	// SemverFilter is a regular expression tags must match before they
	// are read as versions.
	SemverFilter string
	// Tag names a tag.
	Tag string
}

// Resolved is a Selector resolved to one manifest.
type Resolved struct {
	// Tag is the tag resolved, as written in the registry ("v1.3.0"); ""
	// for a digest selector.
	Tag string
	// Digest is the manifest digest the tag pointed at ("sha256:<hex>"),
	// the index digest for an image index.
	Digest string
	// Revision is the RFC-0005 revision: "<tag>@sha256:<hex>", or
	// "sha256:<hex>" for a digest selector.
	Revision string
}

// Resolve resolves sel in repo to a digest, with one HEAD request (GET
// when the registry does not answer the digest to HEAD) after listing the
// tags for a semver range. Everything after that should be done by digest.
func (c *Client) Resolve(ctx context.Context, repo Repository, sel Selector) (Resolved, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	pick, err := compileSelector(repo, sel)
	if err != nil {
		return Resolved{}, err
	}
	kind, ref := sel.describe()
	s, err := c.open(ctx, repo, false, kind, ref)
	if err != nil {
		return Resolved{}, err
	}
	if sel.Digest != "" {
		d, err := s.head(ctx, sel.Digest)
		if err != nil {
			return Resolved{}, err
		}
		return Resolved{Digest: d.String(), Revision: d.String()}, nil
	}
	tag := sel.Tag
	if pick != nil {
		tags, err := s.tags(ctx)
		if err != nil {
			return Resolved{}, err
		}
		if tag, err = pick.highest(tags); err != nil {
			return Resolved{}, &Error{Kind: ErrNoMatch, Repository: repo, RefKind: "semver range", Ref: sel.SemVer, Err: err}
		}
	}
	if tag == "" {
		tag = DefaultTag
	}
	d, err := s.head(ctx, tag)
	if err != nil {
		return Resolved{}, err
	}
	return Resolved{Tag: tag, Digest: d.String(), Revision: tag + "@" + d.String()}, nil
}

// describe names what sel selects, for error messages.
func (sel Selector) describe() (kind, ref string) {
	switch {
	case sel.Digest != "":
		return "digest", sel.Digest
	case sel.SemVer != "":
		return "semver range", sel.SemVer
	case sel.Tag != "":
		return "tag", sel.Tag
	}
	return "tag", DefaultTag
}

// compileSelector checks sel before any request; it returns the semver
// picker when sel selects by range.
func compileSelector(repo Repository, sel Selector) (*semverPicker, error) {
	invalid := func(kind, ref string, err error) error {
		return &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: kind, Ref: ref, Err: err}
	}
	switch {
	case sel.Digest != "":
		if _, err := v1.NewHash(sel.Digest); err != nil {
			return nil, invalid("digest", sel.Digest, fmt.Errorf("want <algorithm>:<hex>, e.g. sha256:<64 hex digits>"))
		}
		if _, err := name.NewDigest("example.com/r@"+sel.Digest, name.StrictValidation); err != nil {
			return nil, invalid("digest", sel.Digest, fmt.Errorf("want <algorithm>:<hex>, e.g. sha256:<64 hex digits>"))
		}
		return nil, nil
	case sel.SemVer != "":
		p, err := newSemverPicker(sel.SemVer, sel.SemverFilter)
		if err != nil {
			return nil, invalid("semver range", sel.SemVer, err)
		}
		return p, nil
	case sel.Tag != "":
		if !validTag(sel.Tag) {
			return nil, invalid("tag", sel.Tag, fmt.Errorf("not a valid tag (%s)", tagRule))
		}
	}
	return nil, nil
}

// semverPicker chooses the highest tag in a range.
type semverPicker struct {
	rangeStr, filterStr string
	constraint          *semver.Constraints
	filter              *regexp.Regexp
}

func newSemverPicker(rng, filter string) (*semverPicker, error) {
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return nil, fmt.Errorf("invalid semver range: %w", err)
	}
	p := &semverPicker{rangeStr: rng, filterStr: filter, constraint: c}
	if filter != "" {
		if p.filter, err = regexp.Compile(filter); err != nil {
			return nil, fmt.Errorf("invalid semverFilter regular expression %q: %w", filter, err)
		}
	}
	return p, nil
}

// candidate is a tag read as a version.
type candidate struct {
	tag string
	v   *semver.Version
}

// versions returns the tags that pass the filter and parse as versions.
func (p *semverPicker) versions(tags []string) []candidate {
	var out []candidate
	for _, t := range tags {
		if p.filter != nil && !p.filter.MatchString(t) {
			continue
		}
		v, err := semver.NewVersion(t)
		if err != nil {
			continue
		}
		out = append(out, candidate{tag: t, v: v})
	}
	return out
}

// matching returns the candidates in the range, highest first; equal
// versions ("1.0.0", "v1.0.0", "1.0.0+b") are ordered by tag so the
// choice never depends on the registry's order.
func (p *semverPicker) matching(tags []string) []candidate {
	var out []candidate
	for _, c := range p.versions(tags) {
		if p.constraint.Check(c.v) {
			out = append(out, c)
		}
	}
	sortCandidates(out)
	return out
}

func sortCandidates(cs []candidate) {
	slices.SortFunc(cs, func(a, b candidate) int {
		switch {
		case higher(a, b):
			return -1
		case higher(b, a):
			return 1
		}
		return 0
	})
}

// higher orders by version, then by tag (the greater string first).
func higher(a, b candidate) bool {
	if c := a.v.Compare(b.v); c != 0 {
		return c > 0
	}
	return a.tag > b.tag
}

// highest returns the highest tag in the range, or a *NoMatchError.
func (p *semverPicker) highest(tags []string) (string, error) {
	if m := p.matching(tags); len(m) > 0 {
		return m[0].tag, nil
	}
	vs := p.versions(tags)
	sortCandidates(vs)
	e := &NoMatchError{Range: p.rangeStr, Filter: p.filterStr, Tags: len(tags), Versions: len(vs)}
	if len(vs) > 0 {
		e.Highest = vs[0].tag
	}
	return "", e
}
