package oci

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// URLPrefix starts every OCI repository address.
const URLPrefix = "oci://"

// Repository is an OCI repository: a registry host and a path in it.
type Repository struct {
	// Registry is the host, with its port when one was given
	// ("ghcr.io", "127.0.0.1:5000").
	Registry string
	// Path is the repository path in the registry ("org/app").
	Path string
}

// String returns the repository as an oci:// address.
func (r Repository) String() string { return URLPrefix + r.Registry + "/" + r.Path }

// Reference is a repository address that may carry a tag or a digest, as
// the flux artifact commands take it (oci://host/path:tag,
// oci://host/path@sha256:<hex>).
type Reference struct {
	Repository
	// Tag is the tag given after ':', or "".
	Tag string
	// Digest is the digest given after '@', or "".
	Digest string
}

// ParseURL parses an OCIRepository url: oci://host[:port]/path. A tag or a
// digest in the address is refused (they belong in spec.ref), as are
// credentials, a query, a missing path and names the distribution
// specification does not allow.
func ParseURL(u string) (Repository, error) {
	ref, err := ParseReference(u)
	if err != nil {
		return Repository{}, err
	}
	switch {
	case ref.Digest != "":
		return Repository{}, fmt.Errorf("invalid OCI url %q: it names digest %q; give the digest in spec.ref.digest and the repository alone in the url", ref.Repository.String(), ref.Digest)
	case ref.Tag != "":
		return Repository{}, fmt.Errorf("invalid OCI url %q: it names tag %q; give the tag in spec.ref.tag (or a range in spec.ref.semver) and the repository alone in the url", ref.Repository.String(), ref.Tag)
	}
	return ref.Repository, nil
}

// ParseReference parses oci://host[:port]/path with an optional :tag or
// @digest, the form the flux artifact commands take.
func ParseReference(u string) (Reference, error) {
	rest, ok := strings.CutPrefix(u, URLPrefix)
	if !ok {
		return Reference{}, fmt.Errorf("invalid OCI url %q: it must start with %s, e.g. oci://ghcr.io/org/app", safeURL(u), URLPrefix)
	}
	host, path, _ := strings.Cut(rest, "/")
	if strings.Contains(host, "@") {
		// Never echo what may be a password.
		return Reference{}, errors.New("invalid OCI url: credentials in the url are not allowed; give them in a Secret")
	}
	if strings.ContainsAny(rest, "?#") {
		return Reference{}, fmt.Errorf("invalid OCI url %q: a query or fragment is not allowed", u)
	}
	if err := checkHost(host); err != nil {
		return Reference{}, fmt.Errorf("invalid OCI url %q: %w", u, err)
	}
	var ref Reference
	if p, d, found := strings.Cut(path, "@"); found {
		if _, err := name.NewDigest("example.com/r@"+d, name.StrictValidation); err != nil {
			return Reference{}, fmt.Errorf("invalid OCI url %q: digest %q is not <algorithm>:<hex>", u, d)
		}
		path, ref.Digest = p, d
	}
	if i := strings.LastIndex(path, ":"); i >= 0 && !strings.Contains(path[i:], "/") {
		path, ref.Tag = path[:i], path[i+1:]
		if !validTag(ref.Tag) {
			return Reference{}, fmt.Errorf("invalid OCI url %q: tag %q is not a valid tag (%s)", u, ref.Tag, tagRule)
		}
	}
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return Reference{}, fmt.Errorf("invalid OCI url %q: no repository path after the registry host, e.g. oci://%s/org/app", u, host)
	}
	if _, err := name.NewRepository(host+"/"+path, name.StrictValidation); err != nil {
		return Reference{}, fmt.Errorf("invalid OCI url %q: repository path %q: %w", u, path, err)
	}
	ref.Repository = Repository{Registry: host, Path: path}
	return ref, nil
}

// checkHost accepts host, host:port, [ipv6] and [ipv6]:port.
func checkHost(host string) error {
	if host == "" {
		return errors.New("no registry host, e.g. oci://ghcr.io/org/app")
	}
	h, port := host, ""
	if hh, p, err := net.SplitHostPort(host); err == nil {
		h, port = hh, p
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		h = host[1 : len(host)-1]
	}
	if port != "" {
		for _, c := range port {
			if c < '0' || c > '9' {
				return fmt.Errorf("registry port %q is not a number", port)
			}
		}
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("registry host %q has an invalid character %q", host, c)
		}
	}
	if h == "" {
		return errors.New("no registry host, e.g. oci://ghcr.io/org/app")
	}
	return nil
}

// safeURL returns u, or a placeholder when it carries credentials.
func safeURL(u string) string {
	rest := u
	if _, r, ok := strings.Cut(u, "://"); ok {
		rest = r
	}
	if host, _, _ := strings.Cut(rest, "/"); strings.Contains(host, "@") {
		return "<url with credentials>"
	}
	return u
}

// nameRepository is the go-containerregistry name of r; insecure lets
// go-containerregistry use plain HTTP.
func (r Repository) nameRepository(insecure bool) (name.Repository, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(r.Registry+"/"+r.Path, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("invalid repository %s: %w", r, err)
	}
	return repo, nil
}

// tagRule is the distribution specification's rule for tags.
const tagRule = "1 to 128 of [A-Za-z0-9_.-], not starting with . or -"

// validTag checks tag against tagRule.
func validTag(tag string) bool {
	if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' {
		return false
	}
	for _, c := range tag {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
