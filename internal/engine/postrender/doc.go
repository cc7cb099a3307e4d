// Package postrender is the post-renderer of a HelmRelease, as Flux's
// helm-controller applies it: a Helm v4 postrenderer.PostRenderer built from
// the release's spec that changes the manifests Helm rendered from the chart
// before they are stored and applied.
//
// Run applies, in this order:
//
//  1. each spec.postRenderers[].kustomize, in the order of the list: its
//     patches (strategic-merge or JSON6902, each applied to the objects its
//     target selects) and its images (newName, newTag, digest), one
//     kustomize build per post-renderer, so a later post-renderer sees what
//     the earlier ones produced;
//  2. spec.commonMetadata: its labels and annotations set on every object
//     (metadata only, never selectors or templates), overriding the keys
//     the chart set;
//  3. the origin labels helm.toolkit.fluxcd.io/name and
//     helm.toolkit.fluxcd.io/namespace, set to the HelmRelease's name and
//     namespace (not the target namespace) on every object.
//
// The kustomize builds run through internal/engine/kustomize, on a private
// temporary directory that holds only the rendered manifests and a
// kustomization listing them: plugins are off, nothing is fetched, and the
// builds share that engine's pool and its guard of kustomize's process-wide
// OpenAPI schema, which a build run directly on sigs.k8s.io/kustomize/api
// beside a Kustomization with a custom openapi field would race with.
//
// What Helm passes through the post-renderer is Helm's choice, set on the
// action by spec.postRenderStrategy (Strategy): combined (the default) sends
// hooks and templates in one stream, so hooks are patched and labelled too;
// separate sends them in two streams (two Run calls), so one object can be
// both a hook and a template without kustomize refusing it as a duplicate
// (under combined, a kustomize post-renderer refuses it naming both
// templates; commonMetadata and the origin labels alone accept it);
// nohooks sends the templates only, as Helm 3 did, so hooks get neither the
// patches nor commonMetadata nor the origin labels. Helm marks each document
// with the annotation postrenderer.helm.sh/postrender-filename, which Run
// keeps so that Helm can put the documents back into their templates.
//
// Digest, PostRenderersDigest and CommonMetadataDigest are the digests the
// controller keeps in status to tell that these fields changed.
package postrender
