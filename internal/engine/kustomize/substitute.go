package kustomize

import (
	"bytes"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/envsubst"
)

// MergeVars merges post-build variables with Flux's precedence: the data of
// later substituteFrom objects overrides earlier ones, and substitute
// overrides them all. The inputs are not modified.
func MergeVars(substitute map[string]string, from ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range from {
		for k, v := range m {
			out[k] = v
		}
	}
	for k, v := range substitute {
		out[k] = v
	}
	return out
}

// substituter expands variables in built objects.
type substituter struct {
	vars      map[string]string
	strict    bool
	maxOutput int // bytes of one object's substituted YAML
}

// newSubstituter returns the substituter of pb, or nil when nothing is to
// be substituted: no postBuild, or the WithVariables strategy with no
// variable. The expansion of one object may write maxOutput bytes.
func newSubstituter(pb *PostBuild, maxOutput int) (*substituter, error) {
	if pb == nil {
		return nil, nil
	}
	switch pb.Strategy {
	case "", kustomizev1.SubstituteWithVariables:
		if len(pb.Vars) == 0 {
			return nil, nil
		}
	case kustomizev1.SubstituteAlways:
	default:
		return nil, fmt.Errorf("%w: unknown substituteStrategy %q (want %s or %s)", ErrSubstitution,
			pb.Strategy, kustomizev1.SubstituteWithVariables, kustomizev1.SubstituteAlways)
	}
	names := make([]string, 0, len(pb.Vars))
	for name := range pb.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := envsubst.ValidateName(name); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSubstitution, err)
		}
	}
	return &substituter{vars: pb.Vars, strict: !pb.AllowUndefined, maxOutput: maxOutput}, nil
}

// object substitutes the variables in the YAML form of obj and parses the
// result again, so a value such as "${replicas}" becomes a number, as in
// Flux. Positions in errors are lines and columns of that YAML form.
func (s *substituter) object(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	data, err := yaml.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte("${")) {
		return obj, nil
	}
	out, err := envsubst.SubstituteWith(string(data), s.vars, envsubst.Options{Strict: s.strict, MaxOutput: s.maxOutput})
	if err != nil {
		return nil, fmt.Errorf("in the built manifest, %w", err)
	}
	var fields map[string]any
	if err := yaml.Unmarshal([]byte(out), &fields); err != nil {
		return nil, fmt.Errorf("the substituted manifest is not valid YAML (check the values of the variables it uses): %w", err)
	}
	if fields == nil {
		return nil, fmt.Errorf("the substituted manifest is empty")
	}
	return &unstructured.Unstructured{Object: fields}, nil
}
