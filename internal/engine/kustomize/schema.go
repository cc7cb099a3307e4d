package kustomize

import (
	"sync"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// kustomize keeps its OpenAPI schema in process-wide variables of
// sigs.k8s.io/kustomize/kyaml/openapi, and they are not safe for
// concurrent builds that change them:
//
//   - every build calls openapi.SetSchema with its kustomization's openapi
//     field (and so does every base and component that has one); a custom
//     or non-default schema replaces the global one, which a concurrent
//     build then uses for its strategic-merge patches and namespace scopes;
//   - the schema maps are parsed lazily, under kyaml's lock, but read
//     without it, so a build that parses or replaces the schema while
//     another reads it is a concurrent map access, which aborts the whole
//     process (a fatal error, not a panic that could be recovered);
//   - a custom schema is never cleared by a later build with no openapi
//     field, so one tenant's schema would leak into the next builds.
//
// Builds whose kustomization graph never mentions openapi (and has no
// remote base, which could) only set the schema to the default one it
// already is, and read it: once the default schema is parsed they are safe
// together. So they share schemaGate; a build that may change the schema
// holds it alone and resets kyaml's schema when it is done.
//
// schemaGate is package state because the state it guards is.
var schemaGate struct {
	mu    sync.RWMutex
	ready bool // the default schema is parsed; written under mu.Lock
}

// acquireSchema waits until the build may run with the schema it needs:
// exclusive for a build that may change it, shared otherwise. It returns
// the release function. It cannot be interrupted: the caller runs it on the
// build's goroutine.
func acquireSchema(exclusive bool) (release func()) {
	if exclusive {
		schemaGate.mu.Lock()
		openapi.ResetOpenAPI()
		schemaGate.ready = false
		return func() {
			openapi.ResetOpenAPI()
			schemaGate.ready = false
			schemaGate.mu.Unlock()
		}
	}
	for {
		schemaGate.mu.RLock()
		if schemaGate.ready {
			return schemaGate.mu.RUnlock
		}
		schemaGate.mu.RUnlock()
		schemaGate.mu.Lock()
		if !schemaGate.ready {
			// Parse the default schema now, alone, rather than in a
			// shared build while another reads it.
			openapi.SchemaForResourceType(kyaml.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"})
			schemaGate.ready = true
		}
		schemaGate.mu.Unlock()
	}
}
