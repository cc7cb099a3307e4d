package reconcile

import (
	"errors"
	"fmt"
	"time"
)

// StallingError is terminal: reconciling again cannot help until the spec
// changes. The object gets Stalled=True and no retry is scheduled.
type StallingError struct {
	// Condition, when set, is the declared condition the error is about;
	// the skeleton marks it with Reason and the message (see Owner).
	Condition string
	Reason    string
	Err       error
}

func (e *StallingError) Error() string { return e.Err.Error() }
func (e *StallingError) Unwrap() error { return e.Err }

// WaitingError is not a failure: the object waits for something outside it
// (a dependency, an artifact) and is looked at again after After, or after
// the Reconciler's RequeueDependency when After is 0.
type WaitingError struct {
	Condition string
	Reason    string
	Err       error
	After     time.Duration
}

func (e *WaitingError) Error() string { return e.Err.Error() }
func (e *WaitingError) Unwrap() error { return e.Err }

// GenericError is a failure worth retrying with back-off.
type GenericError struct {
	Condition string
	Reason    string
	Err       error
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

// StallingOn returns a StallingError about condition.
func StallingOn(condition, reason string, err error) error {
	return &StallingError{Condition: condition, Reason: reason, Err: err}
}

// WaitingOn returns a WaitingError about condition; after 0 means the
// Reconciler's RequeueDependency.
func WaitingOn(condition, reason string, after time.Duration, err error) error {
	return &WaitingError{Condition: condition, Reason: reason, After: after, Err: err}
}

// FailedOn returns a GenericError about condition.
func FailedOn(condition, reason string, err error) error {
	return &GenericError{Condition: condition, Reason: reason, Err: err}
}

// owned returns the condition a typed error is about, with its reason and
// message; condition is "" when the error names none.
func owned(err error) (condition, reason, message string) {
	var s *StallingError
	var w *WaitingError
	var g *GenericError
	switch {
	case errors.As(err, &s):
		return s.Condition, s.Reason, s.Error()
	case errors.As(err, &w):
		return w.Condition, w.Reason, w.Error()
	case errors.As(err, &g):
		return g.Condition, g.Reason, g.Error()
	}
	return "", "", ""
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
