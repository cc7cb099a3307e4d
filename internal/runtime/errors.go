package runtime

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// StallingError is terminal: reconciling again cannot help until the spec
// changes. The object gets Stalled=True and no retry is scheduled.
type StallingError struct {
	Reason string
	Err    error
}

func (e *StallingError) Error() string { return e.Err.Error() }
func (e *StallingError) Unwrap() error { return e.Err }

// WaitingError is not a failure: the object waits for something outside it
// (a dependency, an artifact) and is looked at again after After.
type WaitingError struct {
	Reason string
	Err    error
	After  time.Duration
}

func (e *WaitingError) Error() string { return e.Err.Error() }
func (e *WaitingError) Unwrap() error { return e.Err }

// GenericError is a failure worth retrying with back-off.
type GenericError struct {
	Reason string
	Err    error
}

func (e *GenericError) Error() string { return e.Err.Error() }
func (e *GenericError) Unwrap() error { return e.Err }

// Stalling returns a StallingError with a formatted message.
func Stalling(reason, format string, args ...any) error {
	return &StallingError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Waiting returns a WaitingError with a formatted message.
func Waiting(reason string, after time.Duration, format string, args ...any) error {
	return &WaitingError{Reason: reason, After: after, Err: fmt.Errorf(format, args...)}
}

// Failed returns a GenericError with a formatted message; %w wraps as usual.
func Failed(reason, format string, args ...any) error {
	return &GenericError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// reasonOf returns the reason a typed error carries, or fallback.
func reasonOf(err error, fallback string) string {
	var s *StallingError
	var w *WaitingError
	var g *GenericError
	switch {
	case errors.As(err, &s) && s.Reason != "":
		return s.Reason
	case errors.As(err, &w) && w.Reason != "":
		return w.Reason
	case errors.As(err, &g) && g.Reason != "":
		return g.Reason
	}
	return fallback
}

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
