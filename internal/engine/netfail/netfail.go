// Package netfail sorts the errors of a failed connection — TLS, DNS,
// refused, timed out — into a few kinds with a short explanation a person
// can act on. The source engines that talk to servers (chart repositories,
// OCI registries) map the kinds to their own error values; what each
// protocol adds (HTTP statuses, registry errors) stays with them.
package netfail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"
)

// Kind is what went wrong on the way to a server.
type Kind int

const (
	// Other is not a connection failure this package knows.
	Other Kind = iota
	// Timeout: no answer within the deadline.
	Timeout
	// TLS: the handshake failed (unknown authority, wrong host name,
	// invalid certificate, client certificate required, not TLS at all).
	TLS
	// Unreachable: no connection (the name does not resolve, refused,
	// reset).
	Unreachable
)

// Cause is a classified failure.
type Cause struct {
	Kind Kind
	// Detail explains the failure in a few words, naming the peer as the
	// caller called it ("the server", "the registry"); "" when there is
	// nothing to add to the error itself.
	Detail string
	// Generic is set when Detail says less than the error: the caller
	// should keep the error as the cause.
	Generic bool
}

// httpToHTTPS is net/http's message when a TLS handshake gets an HTTP
// answer; the error has no type of its own.
const httpToHTTPS = "server gave HTTP response to HTTPS client"

// Classify sorts err, an error of talking to peer ("the server", "the
// registry"). caHint is how to give a CA in the caller's API, e.g.
// "give its CA as ca.crt in certSecretRef".
func Classify(err error, peer, caHint string) Cause {
	var (
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		alert   tls.AlertError
		dnsErr  *net.DNSError
		opErr   *net.OpError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Cause{Kind: Timeout}
	case strings.Contains(err.Error(), httpToHTTPS):
		return Cause{Kind: TLS, Detail: "HTTPS was expected but " + peer + " answered in plain HTTP"}
	case errors.As(err, &unknown):
		return Cause{Kind: TLS, Detail: peer + "'s certificate is signed by an unknown authority (" + caHint + ")"}
	case errors.As(err, &hostErr):
		return Cause{Kind: TLS, Detail: peer + "'s certificate is not valid for its host name"}
	case errors.As(err, &invalid) || errors.As(err, &verify):
		return Cause{Kind: TLS, Detail: peer + "'s certificate is not valid", Generic: true}
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		return Cause{Kind: TLS, Detail: peer + " refused the TLS handshake (a client certificate, tls.crt and tls.key, may be required)"}
	case errors.As(err, &alert):
		return Cause{Kind: TLS, Detail: "the TLS handshake failed", Generic: true}
	case errors.As(err, &record):
		return Cause{Kind: TLS, Detail: peer + " does not speak TLS"}
	case errors.As(err, &dnsErr):
		return Cause{Kind: Unreachable, Detail: peer + "'s host name does not resolve"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Cause{Kind: Unreachable, Detail: "connection refused"}
	case errors.As(err, &opErr), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Cause{Kind: Unreachable, Generic: true}
	}
	return Cause{Kind: Other, Generic: true}
}
