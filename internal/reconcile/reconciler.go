package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/driftless/driftless/api/meta"
)

// Step is one stage of a reconciliation. It reads and writes the pass's
// state s (what earlier steps found), sets only its own conditions through
// the pass, and returns a typed error (StallingError, WaitingError,
// GenericError) or nil.
type Step[T meta.Object, S any] struct {
	Name string
	Run  func(ctx context.Context, obj T, p *Pass, s *S) error
}

// Kind declares how one kind is reconciled. S is the state the steps of one
// pass hand to each other; the skeleton allocates a fresh *S per pass.
type Kind[T meta.Object, S any] struct {
	// Name is the kind, e.g. "GitRepository"; it labels metrics and logs.
	Name string
	// New returns an empty object to fetch into.
	New func() T
	// Conditions declares the step conditions and how Ready is derived.
	Conditions ConditionSet
	// Plan is the ordered steps of one reconciliation.
	Plan []Step[T, S]
	// Finalize cleans up before the object goes away; nil means nothing to
	// do. Events it records on the pass (what was deleted, or orphaned and
	// why) are emitted whether it succeeds or not.
	Finalize func(ctx context.Context, obj T, p *Pass) error
	// Succeeded returns the reason and message of Ready=True after all steps passed.
	Succeeded func(obj T) (reason, message string)
	// SucceededEvent, when set, gives the message and extra metadata of
	// the event a successful pass emits when Ready's message changes (a
	// new revision) or Ready comes back; took is how long the pass ran.
	// Ready keeps Succeeded's message. Nil emits Ready's message.
	SucceededEvent func(obj T, took time.Duration) (message string, metadata map[string]string)
	// RetryAfter, when set, schedules the retry of a failed reconciliation
	// (spec.retryInterval, as kustomize-controller does) instead of the
	// exponential back-off; zero means the back-off. A failure to reach
	// the API server always takes the back-off: it says nothing about the
	// object, and the next attempt may well succeed.
	RetryAfter func(obj T) time.Duration
	// Indexes are the field indexes the Watches' Map functions list by.
	Indexes []Index[T]
	// Watches are what else reconciles an object: its source's artifact,
	// a dependency becoming ready, a ConfigMap it reads.
	Watches []Watch
	// Sources are other event sources that reconcile an object, such as
	// a channel fed by informers the kind runs itself (a HelmRelease's
	// released objects).
	Sources []source.Source
	// Inert, when set, tells the objects the kind keeps no state for (a
	// HelmRepository of type oci is a data object in Flux 2.9): for those
	// the skeleton runs no step and writes no condition, but undoes what
	// an earlier pass of another type left: Finalize (its artifacts), the
	// finalizer, and the status, which ResetStatus empties.
	Inert       func(obj T) bool
	ResetStatus func(obj T)
	// ReadFresh reads each object from the API server rather than the
	// shared cache, for a kind whose status is its memory (a HelmRelease's
	// release history): a pass must never start from a copy that has not
	// seen the previous pass's status yet, or it would act twice.
	ReadFresh bool
	// Finalizer is the finalizer the skeleton adds and removes;
	// meta.Finalizer when empty (ArtifactGenerators carry
	// source.extensions.fluxcd.io/finalizer, as in Flux).
	Finalizer string
}

// finalizer is the kind's finalizer name.
func (k Kind[T, S]) finalizer() string {
	if k.Finalizer != "" {
		return k.Finalizer
	}
	return meta.Finalizer
}

// Reconciler runs a Kind's plan with the one skeleton.
type Reconciler[T meta.Object, S any] struct {
	Kind   Kind[T, S]
	Client client.Client
	// Fresh reads objects when Kind.ReadFresh is set: uncached.
	Fresh client.Reader
	// Events receives the events of every pass; nil records none.
	Events  EventSink
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
	// RequeueDependency is how soon an object that waits (a WaitingError
	// without After) looks again, should the watch on what it waits for
	// miss the change (--requeue-dependency). 0 means
	// DefaultRequeueDependency.
	RequeueDependency time.Duration

	// written is the Ready condition each object's last pass wrote, which
	// decides whether a success is news. The object a pass starts from
	// comes from the shared cache, which may not have seen the previous
	// pass's status yet when a watch asks again at once: reading Ready
	// there made that second pass announce the same success twice (two
	// identical events, two notifications).
	written readyMemory
}

// DefaultProgressAfter is the default Reconciler.ProgressAfter. Most passes
// end well within it, and writing their start would double their status
// writes (and the API server's work) for a state nobody has time to see.
const DefaultProgressAfter = time.Second

// DefaultRequeueDependency is the default Reconciler.RequeueDependency,
// Flux's --requeue-dependency.
const DefaultRequeueDependency = 30 * time.Second

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler[T, S]) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	start := r.now()
	obj := r.Kind.New()
	var reader client.Reader = r.Client
	if r.Kind.ReadFresh && r.Fresh != nil {
		reader = r.Fresh
	}
	if err := reader.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	logger := log.FromContext(ctx).WithValues("kind", r.Kind.Name)
	ctx = log.IntoContext(ctx, logger)
	defer func() { r.Metrics.ObserveDuration(r.Kind.Name, obj, r.now().Sub(start)) }()

	if !obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj)
	}
	if r.Kind.Inert != nil && r.Kind.Inert(obj) {
		r.written.forget(obj)
		return ctrl.Result{}, r.leaveInert(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, r.Kind.finalizer()) {
		patch := client.MergeFrom(obj.DeepCopyObject().(T))
		controllerutil.AddFinalizer(obj, r.Kind.finalizer())
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
func (r *Reconciler[T, S]) run(ctx context.Context, obj T) (ctrl.Result, error) {
	began := r.now()
	st := &statusPatcher[T]{client: r.Client, base: obj.DeepCopyObject().(T)}
	wasReady := IsTrue(obj, meta.ReadyCondition)
	oldMessage, retrying := "", false
	if c := Get(obj, meta.ReadyCondition); c != nil {
		oldMessage, retrying = c.Message, c.Status == "False"
	}
	if last, ok := r.written.get(obj); ok {
		wasReady, oldMessage = last.ready, last.message
	}

	pass := newPass(obj, func(reason, message string) error {
		markProgress(obj, reason, message)
		return st.patch(ctx, obj)
	})
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

	failed, stepErr := r.runPlan(ctx, obj, pass)
	result, retErr := r.summarise(obj, pass, stepErr)
	obj.SetLastHandledReconcileRequest(requestedAt(obj, obj.GetLastHandledReconcileRequest()))
	st.finish()
	if err := st.patch(ctx, obj); err != nil {
		return ctrl.Result{}, errors.Join(retErr, fmt.Errorf("patch status: %w", err))
	}
	r.written.put(obj)
	r.logOutcome(ctx, obj, failed, stepErr, result, retErr)
	pass.took = r.now().Sub(began)
	r.emit(obj, pass, wasReady, oldMessage, stepErr)
	return result, retErr
}

// runPlan runs the steps in order with a fresh state until one fails, and
// says which did. A plan that ran to its end marks the pass complete.
func (r *Reconciler[T, S]) runPlan(ctx context.Context, obj T, pass *Pass) (failed string, err error) {
	defer pass.runDeferred()
	state := new(S)
	for _, step := range r.Kind.Plan {
		if err := step.Run(ctx, obj, pass, state); err != nil {
			log.FromContext(ctx).V(1).Info("step failed", "step", step.Name, "error", err.Error())
			return step.Name, err
		}
	}
	pass.complete = true
	return "", nil
}

// markProgress says a new attempt is under way: Reconciling=True, Ready
// Unknown, and not stalled any more (kstatus forbids both).
func markProgress(obj meta.Object, reason, message string) {
	Delete(obj, meta.StalledCondition)
	MarkTrue(obj, meta.ReconcilingCondition, reason, message)
	MarkUnknown(obj, meta.ReadyCondition, reason, message)
}

// finalize runs the kind's clean-up and removes the finalizer.
func (r *Reconciler[T, S]) finalize(ctx context.Context, obj T) error {
	r.written.forget(obj)
	if !controllerutil.ContainsFinalizer(obj, r.Kind.finalizer()) {
		return nil
	}
	if r.Kind.Finalize != nil {
		pass := newPass(obj, func(string, string) error { return nil })
		err := r.Kind.Finalize(ctx, obj, pass)
		r.emitRecorded(obj, pass)
		if err != nil {
			if r.Events != nil {
				r.Events.Event(obj, nil, corev1.EventTypeWarning, meta.FailedReason, "finalize: "+err.Error())
			}
			return fmt.Errorf("finalize: %w", err)
		}
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(T))
	controllerutil.RemoveFinalizer(obj, r.Kind.finalizer())
	if err := r.Client.Patch(ctx, obj, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// leaveInert cleans up an object the kind keeps no state for: what an
// earlier pass stored goes (Finalize, the finalizer) and its status is
// emptied, once; after that it costs one read per event.
func (r *Reconciler[T, S]) leaveInert(ctx context.Context, obj T) error {
	if err := r.finalize(ctx, obj); err != nil {
		return err
	}
	if r.Kind.ResetStatus == nil {
		return nil
	}
	base := obj.DeepCopyObject().(T)
	r.Kind.ResetStatus(obj)
	if equality.Semantic.DeepEqual(base, obj) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reset status: %w", err)
	}
	return nil
}

func (r *Reconciler[T, S]) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler[T, S]) progressAfter() time.Duration {
	if r.ProgressAfter > 0 {
		return r.ProgressAfter
	}
	return DefaultProgressAfter
}

func (r *Reconciler[T, S]) requeueDependency() time.Duration {
	if r.RequeueDependency > 0 {
		return r.RequeueDependency
	}
	return DefaultRequeueDependency
}

func (r *Reconciler[T, S]) jitter(d time.Duration) time.Duration {
	if r.Jitter == nil || d <= 0 {
		return d
	}
	return r.Jitter(d)
}
