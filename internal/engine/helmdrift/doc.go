// Package helmdrift detects and corrects the drift of a Helm release: the
// differences between the objects of its stored manifest (and its CRDs)
// and the cluster, as Flux's helm-controller does with
// spec.driftDetection.
//
// Detect dry-runs a server-side apply of every object as the field manager
// helm-controller, forcing conflicts, and compares the result with the
// live object (internal/engine/apply's Compare): each object is unchanged,
// drifted (with the JSON Pointers of the changed fields, never their
// values: of a Secret only the keys are named) or missing. The rules of
// spec.driftDetection.ignore leave fields out, objects labelled or
// annotated helm.toolkit.fluxcd.io/driftDetection: disabled (in the
// manifest or in the cluster) are not checked, and the fields of
// --override-manager managers are handed over to helm-controller first,
// so that what they added shows as drift.
//
// Correct re-applies the drifted objects and re-creates the missing ones
// from the objects themselves, never from a diff (Flux once wrote a diff's
// masked "***" into a ConfigMap), forcing conflicts, as the identity the
// Detector was built with: build it with the release's client.
//
// The Report's String is the text of Flux's DriftDetected event.
package helmdrift
