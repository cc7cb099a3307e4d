package chartrepo

import (
	"fmt"
	"net/url"
	"strings"
)

// parseRepoURL checks a repository URL: http or https, a host, no
// credentials in it (they belong in secretRef, and would reach messages).
func parseRepoURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidURL, Detail: "the repository URL cannot be parsed"}
	}
	if u.User != nil {
		u.User = nil
		return nil, &Error{Kind: ErrInvalidURL, URL: u.String(),
			Detail: "credentials in the URL are not allowed; give them in secretRef"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &Error{Kind: ErrInvalidURL, URL: raw,
			Detail: "the repository URL must start with http:// or https:// (oci:// repositories are read with OCITags and PullOCIChart)"}
	}
	if u.Host == "" {
		return nil, &Error{Kind: ErrInvalidURL, URL: raw, Detail: "the repository URL has no host"}
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// withSlash returns a copy of u whose path ends in "/", so that relative
// references resolve below it, as Helm resolves them.
func withSlash(u *url.URL) *url.URL {
	c := *u
	c.Path = strings.TrimSuffix(c.Path, "/") + "/"
	if c.RawPath != "" {
		c.RawPath = strings.TrimSuffix(c.RawPath, "/") + "/"
	}
	return &c
}

// indexURL is <repo>/index.yaml, keeping the repository's query.
func indexURL(repo *url.URL) *url.URL {
	u := withSlash(repo).ResolveReference(&url.URL{Path: "index.yaml"})
	u.RawQuery = repo.RawQuery
	return u
}

// resolveChartURL resolves an entry's URL against the repository URL: an
// absolute URL is used as it is, a relative one below the repository with
// the repository's query (as Helm does).
func resolveChartURL(repo *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("the entry's URL %q cannot be parsed", ref)
	}
	if r.User != nil {
		r.User = nil
		return nil, fmt.Errorf("the entry's URL %q carries credentials", r.String())
	}
	if r.IsAbs() {
		if r.Scheme != "http" && r.Scheme != "https" {
			return nil, fmt.Errorf("the entry's URL %q is not http or https", ref)
		}
		return r, nil
	}
	u := withSlash(repo).ResolveReference(r)
	u.RawQuery = repo.RawQuery
	return u, nil
}
