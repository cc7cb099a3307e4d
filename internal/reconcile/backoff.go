package reconcile

import (
	"math/rand/v2"
	"time"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
)

// RetryOptions are Flux's back-off and jitter flags.
type RetryOptions struct {
	// MinRetryDelay is the first back-off after a failure (--min-retry-delay, 750ms).
	MinRetryDelay time.Duration
	// MaxRetryDelay caps the exponential back-off (--max-retry-delay, 15m).
	MaxRetryDelay time.Duration
	// JitterPercent spreads interval requeues by ±percent (--interval-jitter-percentage, 5).
	JitterPercent int
}

// DefaultRetryOptions are Flux's defaults.
func DefaultRetryOptions() RetryOptions {
	return RetryOptions{MinRetryDelay: 750 * time.Millisecond, MaxRetryDelay: 15 * time.Minute, JitterPercent: 5}
}

// RateLimiter is the exponential per-object back-off between failed reconciliations.
func (o RetryOptions) RateLimiter() workqueue.TypedRateLimiter[ctrl.Request] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[ctrl.Request](o.MinRetryDelay, o.MaxRetryDelay)
}

// Jitter returns d moved by a random amount within ±JitterPercent.
func (o RetryOptions) Jitter(d time.Duration) time.Duration {
	if o.JitterPercent <= 0 || d <= 0 {
		return d
	}
	span := int64(d) * int64(o.JitterPercent) / 100
	if span == 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*span+1)-span)
}
