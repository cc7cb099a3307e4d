// Package reconcile is the one reconcile kit every Driftless controller uses: a
// generic reconcile skeleton (fetch, finalizer, deletion, suspend, progressive
// status, ordered steps, conditions summarised into Ready, one status patch),
// typed errors, condition helpers, Kubernetes events, the requestedAt
// protocol, metrics and retry back-off.
//
// A kind declares its steps and conditions; it never copies the skeleton.
package reconcile
