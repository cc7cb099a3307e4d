// Package v1beta1 is the event.toolkit.fluxcd.io/v1beta1 Event: what a
// Flux controller POSTs to the notification controller for every Normal or
// Warning event it records, and what the notification controller hands to
// each provider. Driftless's controllers produce the same JSON, in process
// or over HTTP to --events-addr, so Flux's controllers and other tools can
// post to Driftless during a migration, and Driftless's to Flux's.
//
// It is not a CRD: the type is plain JSON and has no scheme registration.
package v1beta1
