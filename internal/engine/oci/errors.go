package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/driftless/driftless/internal/engine/netfail"
)

// The kinds of failure; an *Error matches one of them with errors.Is.
var (
	// ErrInvalidSelector: the selector (digest, semver range, semver
	// filter, tag, layer selector) cannot be used as written. It is
	// stalling: retrying cannot help until the spec changes.
	ErrInvalidSelector = errors.New("invalid selector")
	// ErrNoMatch: no tag satisfies the semver range (see *NoMatchError).
	ErrNoMatch = errors.New("no tag matches the semver range")
	// ErrTagNotFound: the registry has no such tag.
	ErrTagNotFound = errors.New("tag not found")
	// ErrDigestNotFound: the registry has no manifest with that digest.
	ErrDigestNotFound = errors.New("digest not found")
	// ErrNotFound: the registry answered 404 for something else (the
	// repository's tag list, a blob).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry answered 401.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the registry answered 403.
	ErrForbidden = errors.New("forbidden")
	// ErrTLS: the TLS handshake failed (unknown authority, wrong host name,
	// client certificate required) or the two ends disagree on HTTPS.
	ErrTLS = errors.New("TLS failure")
	// ErrUnreachable: no connection to the registry (refused, DNS, reset).
	ErrUnreachable = errors.New("registry unreachable")
	// ErrTimeout: the registry did not answer within Options.Timeout.
	ErrTimeout = errors.New("timeout")
	// ErrLayerNotFound: the manifest has no layer of the selected media type.
	ErrLayerNotFound = errors.New("no matching layer")
	// ErrTooLarge: a manifest, layer or its content is over a size limit.
	ErrTooLarge = errors.New("too large")
	// ErrDigestMismatch: what the registry sent does not have the digest
	// it was asked for.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrInvalidArtifact: the manifest or layer cannot be read as asked
	// (unknown manifest type, no linux/amd64 manifest in an index, a layer
	// that is not a gzip tarball under extract, an unsafe tarball).
	ErrInvalidArtifact = errors.New("invalid artifact")
	// ErrRegistry: any other error answer of the registry.
	ErrRegistry = errors.New("registry error")
)

// Error is a failed registry operation: which repository, which tag or
// digest, what kind of failure, and the cause. Its message never holds a
// credential.
type Error struct {
	// Kind is one of the Err* values.
	Kind error
	// Repository is the repository the operation was about.
	Repository Repository
	// RefKind says what Ref is ("tag", "digest", "semver range"), "" for
	// none.
	RefKind string
	// Ref is the tag, digest or range, "" for none.
	Ref string
	// Detail says what was expected or found.
	Detail string
	// CredentialsSent tells, for ErrUnauthorized and ErrForbidden, whether
	// credentials were configured for the registry and offered to it.
	CredentialsSent bool
	// Err is the underlying cause, nil for none.
	Err error
}

// Error formats registry, repository, reference, kind, detail and cause.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "registry %s repository %s", e.Repository.Registry, e.Repository.Path)
	if e.Ref != "" {
		fmt.Fprintf(&b, " %s %q", e.RefKind, e.Ref)
	}
	fmt.Fprintf(&b, ": %v", e.Kind)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Stalling reports whether retrying cannot help until the spec changes.
func (e *Error) Stalling() bool { return errors.Is(e.Kind, ErrInvalidSelector) }

// IsStalling reports whether err is an *Error that retrying cannot fix.
func IsStalling(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Stalling()
}

// NoMatchError details ErrNoMatch: how many tags were seen and the highest
// version among them.
type NoMatchError struct {
	// Range is the semver range; Filter the semverFilter regex, if any.
	Range, Filter string
	// Tags counts the tags listed; Versions those that passed the filter
	// and parse as versions (prereleases included).
	Tags, Versions int
	// Highest is the highest version seen, as tagged, "" if none.
	Highest string
}

// Error says how many tags and versions were seen and the highest.
func (e *NoMatchError) Error() string {
	var b strings.Builder
	b.WriteString(plural(e.Tags, "tag") + " seen")
	if e.Filter != "" {
		fmt.Fprintf(&b, ", %s matching the filter %q", plural(e.Versions, "version"), e.Filter)
	} else {
		fmt.Fprintf(&b, ", %d of them versions", e.Versions)
	}
	if e.Highest != "" {
		fmt.Fprintf(&b, ", the highest %s", e.Highest)
	}
	return b.String()
}

// errInsecureRefused is the transport's refusal of plain HTTP.
type errInsecureRefused struct{ host string }

func (e *errInsecureRefused) Error() string {
	return fmt.Sprintf("plain HTTP to %s not allowed without insecure", e.host)
}

// errHTTPToHTTPS is net/http's message when a TLS handshake gets an HTTP
// answer; the error has no type of its own.
const errHTTPToHTTPS = "server gave HTTP response to HTTPS client"

// classify sorts a transport error into a kind with a short explanation.
func classify(err error, timeout time.Duration) (kind error, detail string) {
	var (
		terr    *transport.Error
		refused *errInsecureRefused
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTimeout, fmt.Sprintf("no answer from the registry within %s", timeout)
	case errors.As(err, &terr):
		return classifyStatus(terr)
	case strings.Contains(err.Error(), errHTTPToHTTPS):
		return ErrTLS, "HTTPS was expected but the registry answered in plain HTTP (set insecure for a plain HTTP registry)"
	}
	c := netfail.Classify(err, "the registry", "give its CA as ca.crt")
	switch c.Kind {
	case netfail.TLS:
		return ErrTLS, c.Detail
	case netfail.Unreachable:
		return ErrUnreachable, c.Detail
	}
	if errors.As(err, &refused) {
		// Only when nothing else failed: the HTTPS attempt tells more.
		return ErrTLS, ""
	}
	return ErrRegistry, ""
}

func classifyStatus(terr *transport.Error) (error, string) {
	switch terr.StatusCode {
	case http.StatusUnauthorized:
		return ErrUnauthorized, ""
	case http.StatusForbidden:
		return ErrForbidden, ""
	case http.StatusNotFound:
		return ErrNotFound, ""
	case http.StatusBadRequest:
		if strings.Contains(strings.ToLower(terr.Error()), "https") {
			return ErrTLS, "plain HTTP was used but the registry speaks HTTPS"
		}
	case http.StatusProxyAuthRequired:
		return ErrUnreachable, "the proxy refused the request (check the proxy username and password)"
	}
	return ErrRegistry, fmt.Sprintf("HTTP status %d", terr.StatusCode)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
