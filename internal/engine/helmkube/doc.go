// Package helmkube gives Helm's actions their way to a cluster: one Target
// per cluster and identity (the controller's own, an impersonated
// ServiceAccount or a remote kubeconfig's, as the caller's rest.Config
// says), whose action.Configurations share one cached discovery client,
// one RESTMapper and one OpenAPI schema cache, built once and refreshed
// when the caller says CRDs changed (Invalidate), after Helm installs a
// chart's CRDs, or when a manifest names a kind the cache does not know but
// the server, asked for that one group version, now serves (a CRD created
// since by anyone). Helm would otherwise rebuild discovery for every action,
// which is how Flux's helm-controller ran out of memory.
//
// Every configuration keeps its releases as Secrets in the release's storage
// namespace under the same identity, writes with the field manager
// helm-controller, and waits on watch events: its kube client's waiter for
// the watcher (Flux's poller) and hook-only strategies is built on
// internal/engine/health's Checker, failing as soon as an object fails; the
// legacy strategy keeps Helm's own waiter.
//
// The package is plain client-go and the Helm SDK; it does not import
// controller-runtime.
package helmkube
