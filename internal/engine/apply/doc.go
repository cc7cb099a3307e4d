// Package apply is the server-side apply engine of the Kustomization
// controller. It works on unstructured objects with client-go (a dynamic
// client and a discovery-based RESTMapper) and never imports
// controller-runtime.
//
// Manager.ApplyAll applies a set of objects the way Flux's
// kustomize-controller does:
//
//   - every object gets the ownership labels of its Kustomization and the
//     spec.commonMetadata labels and annotations;
//   - objects are applied in stages: CustomResourceDefinitions, Namespaces and
//     ClusterRoles first, waited for until ready; then the kinds whose name
//     ends in "Class", waited for; then an optional custom stage; then the
//     rest. Within a stage objects follow Flux's kind order;
//   - each object is dry-run with server-side apply (forcing conflicts) and
//     the result is compared with the live object, leaving out metadata that
//     always changes and the paths of spec.ignore rules: only new and drifted
//     objects are written, so an unchanged object keeps its resourceVersion;
//   - the per-object annotations kustomize.toolkit.fluxcd.io/ssa (Override,
//     Merge, IfNotPresent, Ignore), .../reconcile: disabled and
//     .../force: enabled are honoured, on the manifest or in the cluster;
//   - before the dry-run, managedFields entries left by kubectl and by
//     legacy client-side apply are handed over to the controller's own apply
//     entry, so edits made with kubectl are reverted (objects with
//     ssa: Merge excepted). Entries of other managers, such as
//     flux-client-side-apply, are kept, so the fields they added survive.
//
// The result is a ChangeSet, whose String is the text of Flux's events, and
// from which the Inventory stored in status.inventory is built. Diff gives
// the stale objects of two inventories and Manager.Prune deletes those that
// still carry the Kustomization's labels; Manager.DeleteAll implements
// spec.deletionPolicy.
//
// Errors name the object a person has to fix, as Kind/namespace/name. In
// the error of an operation on a Secret, the Secret's values (as applied
// and as found in the cluster) are replaced with "***" wherever the API
// server or an admission webhook quotes them (see RedactSecrets): the
// messages become conditions and events that people who may not read
// Secrets can see.
package apply
