package chartrepo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/driftless/driftless/internal/engine/netfail"
)

// The kinds of failure; an *Error matches one of them with errors.Is.
var (
	// ErrInvalidURL: the repository or chart URL cannot be used as
	// written (not http or https, credentials in the URL, unparsable).
	ErrInvalidURL = errors.New("invalid URL")
	// ErrUnreachable: no connection to the server (refused, DNS, reset).
	ErrUnreachable = errors.New("unreachable")
	// ErrTimeout: the server did not answer within Options.Timeout.
	ErrTimeout = errors.New("timeout")
	// ErrTLS: the TLS handshake failed (unknown authority, wrong host,
	// client certificate required).
	ErrTLS = errors.New("TLS failure")
	// ErrUnauthorized: the server answered 401.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the server answered 403.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the server answered 404 (no index.yaml, no chart
	// archive, no OCI tag or repository).
	ErrNotFound = errors.New("not found")
	// ErrServer: any other unexpected HTTP status or registry answer.
	ErrServer = errors.New("unexpected server answer")
	// ErrNotYAML: the index is not a YAML mapping.
	ErrNotYAML = errors.New("index is not YAML")
	// ErrInvalidIndex: the index is YAML but not a Helm repository index
	// (no apiVersion, entries of the wrong shape).
	ErrInvalidIndex = errors.New("invalid index")
	// ErrTooLarge: the index or the chart is over its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrDigestMismatch: a downloaded chart does not have the digest its
	// index entry gives.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrChartNotFound: the index has no chart of that name.
	ErrChartNotFound = errors.New("chart not in index")
	// ErrNoVersion: the chart has no such version (or none in the range
	// a caller resolved, see NoVersionError).
	ErrNoVersion = errors.New("no matching chart version")
	// ErrNotAChart: an OCI tag exists but is not a Helm chart (no layer of
	// media type ChartLayerMediaType).
	ErrNotAChart = errors.New("not a Helm chart")
	// ErrInvalidSecret: a secretRef or certSecretRef cannot be used.
	ErrInvalidSecret = errors.New("invalid secret")
)

// Error is a failed repository operation. Its message names the URL, the
// chart and the version it was about and never holds a credential.
type Error struct {
	// Kind is one of the Err* values.
	Kind error
	// URL is the repository, index or chart URL (oci://... for OCI), ""
	// when the failure is not about one.
	URL string
	// Chart and Version name the chart, "" for none. VersionRange marks
	// Version as a semver range rather than one version.
	Chart, Version string
	VersionRange   bool
	// Detail says what was expected or found.
	Detail string
	// Err is the underlying cause, nil for none.
	Err error
}

// Error formats the chart, version, URL, kind, detail and cause. For the
// chart and version kinds it reads as Flux's messages do
// ("no 'podinfo' chart with version matching '9.*' found").
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Kind == ErrNoVersion && e.VersionRange:
		fmt.Fprintf(&b, "no '%s' chart with version matching '%s' found", e.Chart, e.Version)
	case e.Kind == ErrNoVersion:
		fmt.Fprintf(&b, "no '%s' chart with version '%s' found", e.Chart, e.Version)
	case e.Kind == ErrChartNotFound:
		fmt.Fprintf(&b, "no chart named '%s' found", e.Chart)
	default:
		if e.Chart != "" {
			fmt.Fprintf(&b, "chart '%s' ", e.Chart)
			if e.Version != "" {
				fmt.Fprintf(&b, "version '%s' ", e.Version)
			}
		}
		fmt.Fprintf(&b, "%v", e.Kind)
	}
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
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

// Stalling reports whether retrying cannot help until the spec (or the
// repository's content) changes: an invalid URL or Secret, a chart or
// version that is not there, a tag that is not a chart.
func (e *Error) Stalling() bool {
	switch e.Kind {
	case ErrInvalidURL, ErrInvalidSecret, ErrChartNotFound, ErrNoVersion, ErrNotAChart:
		return true
	}
	return false
}

// IsStalling reports whether err is an *Error that retrying cannot fix.
func IsStalling(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Stalling()
}

// NoVersionError is the error of a caller that found no version of chart
// matching rng in the repository at url (Flux's InvalidChartReference
// message).
func NoVersionError(url, chart, rng string) *Error {
	return &Error{Kind: ErrNoVersion, URL: url, Chart: chart, Version: rng, VersionRange: true}
}

// classify sorts a transport error into a kind with a short explanation;
// the url.Error wrapper is dropped (the Error names the URL itself).
func classify(err error, ctx context.Context) (kind error, detail string, cause error) {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if ctx.Err() != nil {
		return ErrTimeout, "no answer within the timeout", nil
	}
	c := netfail.Classify(err, "the server", "give its CA as ca.crt in certSecretRef")
	if c.Generic {
		cause = err
	}
	switch c.Kind {
	case netfail.Timeout:
		return ErrTimeout, "no answer within the timeout", nil
	case netfail.TLS:
		return ErrTLS, c.Detail, cause
	}
	return ErrUnreachable, c.Detail, cause
}
