package reconcile

import (
	"errors"
	"fmt"
	"time"
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
