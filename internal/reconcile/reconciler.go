package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kubeerr"
)

// Step is one stage of a reconciliation. It sets only its own conditions and
// returns a typed error (StallingError, WaitingError, GenericError) or nil.
type Step[T meta.Object] struct {
	Name string
	Run  func(ctx context.Context, obj T, p *Pass) error
}

// Kind declares how one kind is reconciled.
type Kind[T meta.Object] struct {
	// Name is the kind, e.g. "GitRepository"; it labels metrics and logs.
	Name string
	// New returns an empty object to fetch into.
	New func() T
	// Conditions declares the step conditions and how Ready is derived.
	Conditions ConditionSet
	// Plan returns the ordered steps of one reconciliation. The steps of a
	// plan may share state through the closure that makes them.
	Plan func(obj T) []Step[T]
	// Finalize cleans up before the object goes away; nil means nothing to
	// do. Events it records on the pass (what was deleted, or orphaned and
	// why) are emitted whether it succeeds or not.
	Finalize func(ctx context.Context, obj T, p *Pass) error
	// Succeeded returns the reason and message of Ready=True after all steps passed.
	Succeeded func(obj T) (reason, message string)
	// RetryAfter, when set, schedules the retry of a failed reconciliation
	// (spec.retryInterval, as kustomize-controller does) instead of the
	// exponential back-off; zero means the back-off. A failure to reach
	// the API server always takes the back-off: it says nothing about the
	// object, and the next attempt may well succeed.
	RetryAfter func(obj T) time.Duration
}

// Reconciler runs a Kind's plan with the one skeleton.
type Reconciler[T meta.Object] struct {
	Kind    Kind[T]
	Client  client.Client
	Events  record.EventRecorder
	Metrics *Metrics
	// Jitter spreads requeues of objects with the same interval; nil means none.
	Jitter func(time.Duration) time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ProgressAfter is how long a pass runs before its start is written
	// (Reconciling=True, Ready=Unknown): a pass that ends sooner writes its
	// status once, at the end. 0 means DefaultProgressAfter; a step's
	// Progress call is written at once whatever it is.
	ProgressAfter time.Duration
}

// DefaultProgressAfter is the default Reconciler.ProgressAfter. Most passes
// end well within it, and writing their start would double their status
// writes (and the API server's work) for a state nobody has time to see.
const DefaultProgressAfter = time.Second

// Pass is one reconciliation in progress, handed to every step.
type Pass struct {
	progress func(reason, message string) error
	deferred []func()
	events   []passEvent
	// EventMetadata is attached to the events this pass emits (revision...).
	EventMetadata map[string]string
}

// Progress reports what the reconciliation is doing now: Reconciling=True
// with the message, patched at once so a person watching sees it.
func (p *Pass) Progress(reason, message string) error { return p.progress(reason, message) }

// passEvent is an event a step asked for, emitted after the status patch.
type passEvent struct{ eventType, reason, message string }

// Event records a Kubernetes event about the object (a change set, say),
// with the pass's EventMetadata as annotations.
func (p *Pass) Event(eventType, reason, message string) {
	p.events = append(p.events, passEvent{eventType, reason, message})
}

// Defer registers f to run when the plan ends, however it ends (last
// registered, first run): removing a temporary checkout, say.
func (p *Pass) Defer(f func()) { p.deferred = append(p.deferred, f) }

func (p *Pass) runDeferred() {
	for i := len(p.deferred) - 1; i >= 0; i-- {
		p.deferred[i]()
	}
	p.deferred = nil
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler[T]) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	start := r.now()
	obj := r.Kind.New()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	logger := log.FromContext(ctx).WithValues("kind", r.Kind.Name)
	ctx = log.IntoContext(ctx, logger)
	defer func() { r.Metrics.ObserveDuration(r.Kind.Name, obj, r.now().Sub(start)) }()

	if !obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, meta.Finalizer) {
		patch := client.MergeFrom(obj.DeepCopyObject().(T))
		controllerutil.AddFinalizer(obj, meta.Finalizer)
		if err := r.Client.Patch(ctx, obj, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	if obj.IsSuspended() {
		logger.V(1).Info("reconciliation is suspended")
		return ctrl.Result{}, nil
	}
	return r.run(ctx, obj)
}

// run executes the plan and patches the summarised status once at the end,
// and on the way at each Progress call and, when the pass runs longer than
// ProgressAfter, its start.
func (r *Reconciler[T]) run(ctx context.Context, obj T) (ctrl.Result, error) {
	st := &statusPatcher[T]{client: r.Client, base: obj.DeepCopyObject().(T)}
	wasReady := IsTrue(obj, meta.ReadyCondition)
	oldMessage, retrying := "", false
	if c := Get(obj, meta.ReadyCondition); c != nil {
		oldMessage, retrying = c.Message, c.Status == "False"
	}

	pass := &Pass{EventMetadata: map[string]string{}}
	pass.progress = func(reason, message string) error {
		markProgress(obj, reason, message)
		return st.patch(ctx, obj)
	}
	startReason := meta.ProgressingReason
	if retrying {
		startReason = meta.ProgressingWithRetryReason
	}
	startMessage := "reconciliation in progress"
	if obj.GetObservedGeneration() != obj.GetGeneration() {
		startMessage = fmt.Sprintf("processing object: new generation %d -> %d", obj.GetObservedGeneration(), obj.GetGeneration())
	}
	markProgress(obj, startReason, startMessage)
	st.patchLater(ctx, obj, r.progressAfter())
	defer st.finish()

	var stepErr error
	defer pass.runDeferred()
	for _, step := range r.Kind.Plan(obj) {
		if stepErr = step.Run(ctx, obj, pass); stepErr != nil {
			log.FromContext(ctx).V(1).Info("step failed", "step", step.Name, "error", stepErr.Error())
			break
		}
	}
	result, retErr := r.summarise(obj, stepErr)
	obj.SetLastHandledReconcileRequest(requestedAt(obj, obj.GetLastHandledReconcileRequest()))
	st.finish()
	if err := st.patch(ctx, obj); err != nil {
		return ctrl.Result{}, errors.Join(retErr, fmt.Errorf("patch status: %w", err))
	}
	r.emit(obj, pass, wasReady, oldMessage, stepErr)
	return result, retErr
}

// markProgress says a new attempt is under way: Reconciling=True, Ready
// Unknown, and not stalled any more (kstatus forbids both).
func markProgress(obj meta.Object, reason, message string) {
	Delete(obj, meta.StalledCondition)
	MarkTrue(obj, meta.ReconcilingCondition, reason, message)
	MarkUnknown(obj, meta.ReadyCondition, reason, message)
}

// summarise derives Ready, Reconciling, Stalled and observedGeneration from
// the step conditions and the error, and says when to come back.
func (r *Reconciler[T]) summarise(obj T, stepErr error) (ctrl.Result, error) {
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
		return ctrl.Result{RequeueAfter: waiting.After}, nil
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
	if c := r.firstTrouble(obj); c != nil {
		// A step left a negative condition without failing: report it, retry later.
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

// firstTrouble returns the most important negative-polarity condition that is True.
func (r *Reconciler[T]) firstTrouble(obj T) *struct{ Reason, Message string } {
	for _, t := range r.Kind.Conditions.NegativePolarity {
		if c := Get(obj, t); c != nil && c.Status == "True" {
			return &struct{ Reason, Message string }{c.Reason, c.Message}
		}
	}
	return nil
}

// emit records a Kubernetes event for failures and for a new Ready message.
func (r *Reconciler[T]) emit(obj T, pass *Pass, wasReady bool, oldMessage string, stepErr error) {
	if r.Events == nil {
		return
	}
	for _, e := range pass.events {
		r.Events.AnnotatedEventf(obj, pass.EventMetadata, e.eventType, e.reason, "%s", e.message)
	}
	ready := Get(obj, meta.ReadyCondition)
	if ready == nil {
		return
	}
	annotations := pass.EventMetadata
	if stepErr != nil {
		var waiting *WaitingError
		if errors.As(stepErr, &waiting) {
			return // waiting is not news; the condition says it
		}
		r.Events.AnnotatedEventf(obj, annotations, corev1.EventTypeWarning, ready.Reason, "%s", ready.Message)
		return
	}
	if ready.Status == "True" && (!wasReady || oldMessage != ready.Message) {
		r.Events.AnnotatedEventf(obj, annotations, corev1.EventTypeNormal, ready.Reason, "%s", ready.Message)
	}
}

// finalize runs the kind's clean-up and removes the finalizer.
func (r *Reconciler[T]) finalize(ctx context.Context, obj T) error {
	if !controllerutil.ContainsFinalizer(obj, meta.Finalizer) {
		return nil
	}
	if r.Kind.Finalize != nil {
		pass := &Pass{EventMetadata: map[string]string{}, progress: func(string, string) error { return nil }}
		err := r.Kind.Finalize(ctx, obj, pass)
		if r.Events != nil {
			for _, e := range pass.events {
				r.Events.AnnotatedEventf(obj, pass.EventMetadata, e.eventType, e.reason, "%s", e.message)
			}
		}
		if err != nil {
			if r.Events != nil {
				r.Events.Eventf(obj, corev1.EventTypeWarning, meta.FailedReason, "finalize: %v", err)
			}
			return fmt.Errorf("finalize: %w", err)
		}
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(T))
	controllerutil.RemoveFinalizer(obj, meta.Finalizer)
	if err := r.Client.Patch(ctx, obj, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

func (r *Reconciler[T]) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler[T]) progressAfter() time.Duration {
	if r.ProgressAfter > 0 {
		return r.ProgressAfter
	}
	return DefaultProgressAfter
}

func (r *Reconciler[T]) jitter(d time.Duration) time.Duration {
	if r.Jitter == nil || d <= 0 {
		return d
	}
	return r.Jitter(d)
}

// statusPatcher patches the status subresource with the difference from the
// last patched state. Its delayed write (patchLater) runs on a timer, so
// every write holds mu.
type statusPatcher[T meta.Object] struct {
	client client.Client

	mu      sync.Mutex
	base    T
	written bool // patch ran: a delayed write would be out of date
	done    bool // the pass ended: no delayed write any more
	timer   *time.Timer
}

func (s *statusPatcher[T]) patch(ctx context.Context, obj T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = true
	if err := s.client.Status().Patch(ctx, obj, client.MergeFrom(s.base)); err != nil {
		return err
	}
	s.base = obj.DeepCopyObject().(T)
	return nil
}

// patchLater writes obj as it is now after d, unless the pass has written
// its status or ended by then. The write goes out from a copy, and the
// copy as sent becomes the base: obj, which the steps go on changing,
// keeps its resourceVersion, so the next patch holds only what the steps
// changed since.
func (s *statusPatcher[T]) patchLater(ctx context.Context, obj T, d time.Duration) {
	snapshot := obj.DeepCopyObject().(T)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.done || s.written {
			return
		}
		sent := snapshot.DeepCopyObject().(T)
		if err := s.client.Status().Patch(ctx, snapshot, client.MergeFrom(s.base)); err != nil {
			log.FromContext(ctx).V(1).Info("could not write the reconciliation's start", "error", err.Error())
			return
		}
		s.base = sent
	})
}

// finish cancels a delayed write that has not gone out.
func (s *statusPatcher[T]) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	if s.timer != nil {
		s.timer.Stop()
	}
}
