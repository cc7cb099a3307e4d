// Package kubeerr classifies the errors of Kubernetes API calls.
package kubeerr

import (
	"errors"
	"io"
	"net"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Unreachable tells whether err, or any error it wraps or joins, says the
// API server was out of reach or overloaded rather than anything about the
// request: a connection refused or reset, a connection cut short, a
// network timeout, or the answers 429, 500, 503 and 504.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return anyAPIError(err, func(e error) bool {
		return apierrors.IsServiceUnavailable(e) || apierrors.IsTooManyRequests(e) || apierrors.IsInternalError(e) ||
			apierrors.IsTimeout(e) || apierrors.IsServerTimeout(e)
	})
}

// anyAPIError applies is to err and to every error err joins, depth first:
// errors.As would stop at the first API error of a joined list.
func anyAPIError(err error, is func(error) bool) bool {
	if is(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if e != nil && anyAPIError(e, is) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			return anyAPIError(e, is)
		}
	}
	return false
}

// Forbidden tells whether err, or any error it wraps or joins, is the API
// server refusing the request to the identity that made it (403).
func Forbidden(err error) bool {
	return err != nil && anyAPIError(err, apierrors.IsForbidden)
}
