package reconcile

import (
	"context"
	"errors"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/kubeerr"
)

// summarise derives Ready, Reconciling, Stalled and observedGeneration from
// the step conditions and the error, and says when to come back. It first
// marks the condition the error is about, and, after a complete pass,
// clears the declared conditions no step touched.
func (r *Reconciler[T, S]) summarise(obj T, pass *Pass, stepErr error) (ctrl.Result, error) {
	r.markOwned(pass, stepErr)
	if pass.complete {
		r.clearStale(pass)
	}
	var stalling *StallingError
	var waiting *WaitingError
	switch {
	case errors.As(stepErr, &stalling):
		reason := reasonOf(stepErr, meta.FailedReason)
		MarkTrue(obj, meta.StalledCondition, reason, stalling.Error())
		MarkFalse(obj, meta.ReadyCondition, reason, stepErr.Error())
		Delete(obj, meta.ReconcilingCondition)
		obj.SetObservedGeneration(obj.GetGeneration())
		return ctrl.Result{}, nil
	case errors.As(stepErr, &waiting):
		Delete(obj, meta.StalledCondition)
		MarkFalse(obj, meta.ReadyCondition, reasonOf(stepErr, meta.ProgressingReason), stepErr.Error())
		MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingWithRetryReason, stepErr.Error())
		after := waiting.After
		if after == 0 {
			after = r.requeueDependency()
		}
		return ctrl.Result{RequeueAfter: after}, nil
	case stepErr != nil:
		Delete(obj, meta.StalledCondition)
		reason, message := reasonOf(stepErr, meta.FailedReason), stepErr.Error()
		MarkFalse(obj, meta.ReadyCondition, reason, message)
		MarkTrue(obj, meta.ReconcilingCondition, meta.ProgressingWithRetryReason, message)
		if r.Kind.RetryAfter != nil && !kubeerr.Unreachable(stepErr) {
			if after := r.Kind.RetryAfter(obj); after > 0 {
				return ctrl.Result{RequeueAfter: after}, nil
			}
		}
		return ctrl.Result{}, stepErr
	}
	Delete(obj, meta.StalledCondition)
	Delete(obj, meta.ReconcilingCondition)
	if c := r.Kind.Conditions.trouble(obj); c != nil {
		// A step left a condition in trouble without failing: report it, retry later.
		MarkFalse(obj, meta.ReadyCondition, c.Reason, c.Message)
	} else {
		reason, message := meta.SucceededReason, "reconciliation succeeded"
		if r.Kind.Succeeded != nil {
			reason, message = r.Kind.Succeeded(obj)
		}
		MarkTrue(obj, meta.ReadyCondition, reason, message)
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	return ctrl.Result{RequeueAfter: r.jitter(obj.GetRequeueAfter())}, nil
}

// markOwned marks the condition a typed error is about: True when it means
// trouble when True (NegativePolarity), False otherwise.
func (r *Reconciler[T, S]) markOwned(pass *Pass, err error) {
	condition, reason, message := owned(err)
	if condition == "" {
		return
	}
	if reason == "" {
		reason = meta.FailedReason
	}
	if r.Kind.Conditions.negative(condition) {
		pass.MarkTrue(condition, reason, message)
	} else {
		pass.MarkFalse(condition, reason, message)
	}
}

// clearStale removes the declared conditions no step of a complete pass
// touched: every step ran and none spoke about them, so what they said
// belongs to an earlier pass. A pass that stopped at a failing step clears
// nothing: the steps after it did not run, and their conditions still say
// what they last found (a failed fetch keeps ArtifactInStorage).
func (r *Reconciler[T, S]) clearStale(pass *Pass) {
	for _, t := range r.Kind.Conditions.all() {
		if !pass.touched[t] {
			Delete(pass.obj, t)
		}
	}
}

// logOutcome logs how the pass ended: a failure at error level with its
// step and reason (controller-runtime logs an error returned to it without
// them, and nothing for a failure retried after RetryAfter, which returns
// none), a stall at info with its reason, a wait and a success at debug.
func (r *Reconciler[T, S]) logOutcome(ctx context.Context, obj T, step string, stepErr error, result ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)
	var stalling *StallingError
	var waiting *WaitingError
	switch {
	case errors.As(stepErr, &stalling):
		logger.Info("reconciliation stalled", "step", step, "reason", reasonOf(stepErr, meta.FailedReason), "error", stepErr.Error())
	case errors.As(stepErr, &waiting):
		logger.V(1).Info("reconciliation waiting", "step", step, "reason", reasonOf(stepErr, meta.ProgressingReason),
			"message", stepErr.Error(), "requeueAfter", result.RequeueAfter)
	case stepErr != nil && retErr == nil:
		logger.Error(stepErr, "reconciliation failed", "step", step, "reason", reasonOf(stepErr, meta.FailedReason),
			"retryAfter", result.RequeueAfter)
	case stepErr != nil:
		logger.Error(stepErr, "reconciliation failed", "step", step, "reason", reasonOf(stepErr, meta.FailedReason))
	default:
		ready := Get(obj, meta.ReadyCondition)
		logger.V(1).Info("reconciliation succeeded", "ready", string(ready.Status), "reason", ready.Reason,
			"message", ready.Message, "requeueAfter", result.RequeueAfter)
	}
}
