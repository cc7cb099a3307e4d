package helmkube

import (
	"sync"

	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/kubectl/pkg/validation"
)

// cachingFactory is kubectl's factory with its validators kept: kubectl
// builds a new one, with new OpenAPI v3 and field-validation caches, on
// every call, and Helm asks for one on every Build, so each release parsed
// the API group's OpenAPI document again (two thirds of the controller's
// CPU in W5, its workers queued on the parser's lock). A validator keeps
// what it learnt per kind; the factory, and so its validators, is replaced
// on Invalidate, when CRDs change.
type cachingFactory struct {
	kube.Factory
	mu         sync.Mutex
	validators map[string]validation.Schema
}

// Validator returns the factory's validator for the directive, built once.
func (f *cachingFactory) Validator(directive string) (validation.Schema, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.validators[directive]; ok {
		return v, nil
	}
	v, err := f.Factory.Validator(directive)
	if err != nil {
		return nil, err
	}
	if f.validators == nil {
		f.validators = map[string]validation.Schema{}
	}
	f.validators[directive] = v
	return v, nil
}
