package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/clock"

	"github.com/driftless/driftless/api/meta"
)

// Checker waits for objects to become ready, reading them from informers of
// its Cache: each object is evaluated on every watch event that touches it,
// never on a timer.
type Checker struct {
	cache  *Cache
	mapper apimeta.RESTMapper
	clock  clock.Clock
	log    logr.Logger
}

// CheckerOptions are the optional parts of a Checker.
type CheckerOptions struct {
	// Clock measures durations and runs the timeout; nil is the real clock.
	Clock clock.Clock
	// Log receives status changes at V(1).
	Log logr.Logger
}

// NewChecker returns a Checker that watches through c and maps kinds to
// resources with mapper. A mapper that can be reset (a deferred discovery
// mapper) is reset once when a kind is not found, so CRDs installed since it
// was filled are seen.
func NewChecker(c *Cache, mapper apimeta.RESTMapper, opts CheckerOptions) *Checker {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Checker{cache: c, mapper: mapper, clock: opts.Clock, log: opts.Log}
}

// Cache is the Cache the Checker reads from.
func (c *Checker) Cache() *Cache { return c.cache }

// WaitOptions say how long and how to wait.
type WaitOptions struct {
	// Timeout bounds the wait; zero means only the context bounds it.
	Timeout time.Duration
	// DisableFailFast keeps waiting when an object is Failed, until every
	// object is Current or the timeout (Flux's DisableFailFastBehavior).
	// By default a Failed object ends the wait at once.
	DisableFailFast bool
	// CustomChecks are healthCheckExprs: CEL expressions that decide the
	// readiness of the kinds they match instead of the kstatus rules.
	CustomChecks []meta.CustomHealthCheck
	// OnChange, if set, is called from the waiting goroutine each time an
	// object's status or message changes, the first evaluation included.
	OnChange func(ObjectStatus)
}

// Report is the readiness of every object at the end of a wait.
type Report struct {
	// Objects in the order they were given, duplicates removed.
	Objects  []ObjectStatus
	Duration time.Duration
}

// NotReady lists the objects that are not Current.
func (r *Report) NotReady() []ObjectStatus {
	var out []ObjectStatus
	for _, s := range r.Objects {
		if s.Status != Current {
			out = append(out, s)
		}
	}
	return out
}

// Wait returns once every object is Current. It returns early with a
// *FailedError when an object is Failed (unless DisableFailFast), with a
// *TimeoutError when the timeout or the context's deadline passes, with a
// *CanceledError (errors.Is ErrCanceled) when the context is cancelled, with
// an *ExpressionError before watching anything when a custom check does not
// compile, and with a *WatchError when the client may not watch a resource.
// The report is returned in every case but the ones that fail before
// watching.
func (c *Checker) Wait(ctx context.Context, objects []ObjectRef, opts WaitOptions) (*Report, error) {
	start := c.clock.Now()
	checks, err := CompileChecks(opts.CustomChecks)
	if err != nil {
		return nil, err
	}
	w, err := c.newWaiter(objects, checks)
	if err != nil {
		return nil, err
	}
	if len(w.refs) == 0 {
		return &Report{Duration: c.clock.Since(start)}, nil
	}
	defer w.close(c.cache)
	w.watch(c.cache)

	var timeout <-chan time.Time
	if opts.Timeout > 0 {
		timer := c.clock.NewTimer(opts.Timeout)
		defer timer.Stop()
		timeout = timer.C()
	}
	for {
		if err := w.fatalWatchError(); err != nil {
			return w.report(c.clock.Since(start)), err
		}
		w.evaluate(ctx, opts.OnChange, c.log)
		failed, pending := w.failedAndPending()
		switch {
		case len(pending) == 0 && len(failed) == 0:
			return w.report(c.clock.Since(start)), nil
		case len(failed) > 0 && !opts.DisableFailFast:
			return w.report(c.clock.Since(start)), &FailedError{Failed: failed}
		}
		select {
		case <-w.signal:
		case <-timeout:
			report := w.report(c.clock.Since(start))
			return report, &TimeoutError{Timeout: opts.Timeout, NotReady: report.NotReady()}
		case <-ctx.Done():
			report := w.report(c.clock.Since(start))
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return report, &TimeoutError{Timeout: opts.Timeout, NotReady: report.NotReady()}
			}
			return report, &CanceledError{Cause: context.Cause(ctx), Pending: report.NotReady()}
		}
	}
}

// newWaiter maps every object to its resource and scope.
func (c *Checker) newWaiter(objects []ObjectRef, checks *CustomChecks) (*waiter, error) {
	w := &waiter{
		checks:  checks,
		index:   map[objectKey]int{},
		objects: map[objectKey]*tracked{},
		dirty:   map[objectKey]struct{}{},
		signal:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for _, ref := range objects {
		mapping, err := c.restMapping(ref)
		if err != nil {
			return nil, fmt.Errorf("health check %s: %w", ref, err)
		}
		if mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
			if ref.Namespace == "" {
				return nil, fmt.Errorf("health check %s: %s is namespaced but no namespace was given", ref, ref.Kind)
			}
		} else {
			ref.Namespace = ""
		}
		if ref.Name == "" {
			return nil, fmt.Errorf("health check %s: the object has no name", ref)
		}
		wk := watchKey{gvr: mapping.Resource, namespace: ref.Namespace}
		if ref.Owned && c.cache.opts.OwnedSelector != "" {
			wk = watchKey{gvr: mapping.Resource, selector: c.cache.opts.OwnedSelector}
		}
		key := objectKey{watch: wk, namespace: ref.Namespace, name: ref.Name}
		if _, dup := w.index[key]; dup {
			continue
		}
		w.index[key] = len(w.refs)
		w.refs = append(w.refs, ref)
		w.keys = append(w.keys, key)
		w.objects[key] = &tracked{}
		w.dirty[key] = struct{}{}
		w.statuses = append(w.statuses, ObjectStatus{Ref: ref, Result: Result{Status: Unknown, Message: "not read yet"}})
		w.everCurrent = append(w.everCurrent, false)
	}
	return w, nil
}

func (c *Checker) restMapping(ref ObjectRef) (*apimeta.RESTMapping, error) {
	var versions []string
	if ref.Version != "" {
		versions = []string{ref.Version}
	}
	mapping, err := c.mapper.RESTMapping(ref.GroupKind(), versions...)
	if apimeta.IsNoMatchError(err) {
		if r, ok := c.mapper.(apimeta.ResettableRESTMapper); ok {
			r.Reset()
			mapping, err = c.mapper.RESTMapping(ref.GroupKind(), versions...)
		}
	}
	return mapping, err
}
