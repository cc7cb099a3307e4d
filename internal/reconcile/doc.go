// Package reconcile is the one reconcile skeleton every Driftless controller
// uses, and the contract between it and a kind.
//
// # What a kind declares
//
// A Kind[T, S] names the kind, how to make an empty object (New), its
// conditions (a ConditionSet), its Plan (the ordered steps), and optionally
// Finalize (clean-up before deletion), Succeeded (Ready's reason and message
// after a clean pass) and RetryAfter (spec.retryInterval). T is the API
// type; S is the state the steps of one pass hand to each other (a checkout,
// a build): the skeleton allocates a fresh *S for every pass, so a kind
// writes no closures to share it.
//
// # What the skeleton does
//
// Reconciler[T, S] fetches the object, adds the finalizer, runs Finalize on
// deletion, stops at suspend, marks the pass under way (Reconciling=True,
// Ready=Unknown, written only when the pass outlasts ProgressAfter), runs
// the steps in order until one fails, summarises the conditions into Ready,
// Reconciling and Stalled, records observedGeneration and
// lastHandledReconcileAt, patches the status once, logs the outcome and
// emits the events.
//
// # The step contract
//
// A step is Run(ctx, obj, pass, *S). It reads the object and what earlier
// steps left in the state, does one job, writes its findings to the
// object's status and the state, and sets only its own conditions, through
// the Pass (MarkTrue, MarkFalse, MarkUnknown, Delete, or Keep for a
// condition still true from an earlier pass). Pass.Progress writes a
// progress message at once; Pass.Event asks for an event; Pass.Defer
// registers clean-up for the end of the plan; Pass.EventMetadata annotates
// the pass's events (the keys are in api/meta and the API groups).
//
// # Typed errors
//
// A step returns nil or one of three errors, wrapped with %w as it likes:
//
//   - StallingError (Stalling, StallingOn): nothing but a spec change can
//     help. Stalled=True, Ready=False, observedGeneration recorded, no
//     retry; logged at info with the reason.
//   - WaitingError (Waiting, WaitingOn): not a failure; the object waits for
//     something outside it. Ready=False, Reconciling=True, no event, back
//     after After, or after the Reconciler's RequeueDependency
//     (--requeue-dependency) when After is 0.
//   - GenericError (Failed, FailedOn), or any other error: worth retrying.
//     Ready=False, Reconciling=True, a Warning event, logged at error level;
//     retried after Kind.RetryAfter when it says so (the error is then not
//     returned to controller-runtime), else with exponential back-off.
//
// An error may name the condition it is about (the Condition field, or the
// ...On constructors): the skeleton marks that condition with the error's
// reason and message, True when it is of negative polarity, False
// otherwise. A kind's helpers then say only what went wrong.
//
// # Conditions and polarity
//
// ConditionSet lists every condition the steps set: NegativePolarity ones
// mean trouble when True (FetchFailed), Owned ones when False
// (ArtifactInStorage, Healthy). After a pass whose steps all passed, Ready
// is False with the first negative condition that is True, else the first
// owned condition that is False, else True with Kind.Succeeded. A pass
// that ran every step clears the declared conditions none of its steps
// touched: they belong to an earlier pass. A pass that stopped at a
// failure clears nothing, since the steps after it did not run.
//
// # Events
//
// The Reconciler hands every event to an EventSink: RecorderSink writes
// Kubernetes events through client-go (Events shards them over several
// broadcasters), and the notification dispatcher can take its place
// without any kind knowing. A pass emits the events its steps asked for,
// then a Warning for a failure or stall, or a Normal one when Ready turns
// True or its message changes.
//
// The package also holds the condition helpers, the requestedAt protocol,
// the reconcile metrics and the retry back-off. A kind declares; it never
// copies the skeleton.
package reconcile
