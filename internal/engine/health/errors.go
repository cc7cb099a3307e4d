package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/driftless/driftless/api/meta"
)

// ErrCanceled is matched (errors.Is) by the error of a wait whose context was
// cancelled, for instance because a new source revision arrived.
var ErrCanceled = errors.New("health check canceled")

// TimeoutError is a wait that ran out of time; it lists every object that
// was not Current, with its status and message.
type TimeoutError struct {
	Timeout  time.Duration
	NotReady []ObjectStatus
}

func (e *TimeoutError) Error() string {
	return "timeout waiting for: " + formatList(e.NotReady)
}

// FailedError is a wait that ended early because objects failed.
type FailedError struct {
	Failed []ObjectStatus
}

func (e *FailedError) Error() string {
	return "failed early due to stalled resources: " + formatList(e.Failed)
}

// CanceledError is a wait whose context was cancelled; Cause is the
// context's cause (context.Cause). It matches ErrCanceled.
type CanceledError struct {
	Cause   error
	Pending []ObjectStatus
}

func (e *CanceledError) Error() string {
	msg := ErrCanceled.Error()
	if e.Cause != nil && !errors.Is(e.Cause, context.Canceled) {
		msg += ": " + e.Cause.Error()
	}
	if len(e.Pending) > 0 {
		msg += "; still waiting for: " + formatList(e.Pending)
	}
	return msg
}

// Is makes errors.Is(err, ErrCanceled) true.
func (e *CanceledError) Is(target error) bool { return target == ErrCanceled }

// Unwrap returns the cause.
func (e *CanceledError) Unwrap() error { return e.Cause }

// WatchError is a resource the wait cannot watch: the client lacks the
// rights to list or watch it.
type WatchError struct {
	Ref      ObjectRef // the first object that needed the watch
	Resource string    // resource.group
	Err      error
}

func (e *WatchError) Error() string {
	scope := "at cluster scope"
	if e.Ref.Namespace != "" {
		scope = "in namespace " + e.Ref.Namespace
	}
	return fmt.Sprintf("cannot watch %s %s for %s: %v", e.Resource, scope, e.Ref, e.Err)
}

func (e *WatchError) Unwrap() error { return e.Err }

// fatalWatchError tells whether a list or watch error will not go away by
// retrying.
func fatalWatchError(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)
}

// Reason is the Kustomization condition reason for an error of this
// package: InvalidCELExpression for an *ExpressionError or an
// *InvalidExpressionError, HealthCheckCanceled
// for a cancelled wait, HealthCheckFailed for anything else.
func Reason(err error) string {
	var exprErr *ExpressionError
	var invalid *InvalidExpressionError
	switch {
	case errors.As(err, &exprErr), errors.As(err, &invalid):
		return meta.InvalidCELExpressionReason
	case errors.Is(err, ErrCanceled):
		return meta.HealthCheckCanceledReason
	}
	return meta.HealthCheckFailedReason
}
