// Package health tells whether applied objects are ready, the way the
// Kustomization controller needs it for `wait`, `healthChecks` and
// `healthCheckExprs`.
//
// Status computes one object's readiness with kstatus rules (InProgress,
// Current, Failed, Terminating, NotFound, Unknown) for the built-in kinds and
// for any object that follows the Ready/Reconciling/Stalled conventions, and
// CustomChecks override it with CEL expressions for chosen kinds.
//
// A Checker waits for a set of objects without polling: it watches their
// resources through a Cache of informers shared between concurrent waits
// (one per resource and namespace, reference-counted and stopped when no
// wait needs it) and re-evaluates an object on every watch event, so a
// Deployment that becomes Available ends the wait at once. A wait ends early
// when an object fails (unless fail-fast is disabled), on its timeout, or when
// its context is cancelled, for instance by a new source revision.
//
// The package is plain client-go and does not import controller-runtime.
package health
