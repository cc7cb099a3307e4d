package kustomize

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// Object is an API object a GetFunc fills: the method set of
// controller-runtime's client.Object, spelled with apimachinery's
// interfaces, so a client's Get can be passed without this package
// importing controller-runtime.
type Object interface {
	metav1.Object
	runtime.Object
}

// GetFunc reads the object named key into obj, as a client's Get does.
type GetFunc func(ctx context.Context, key types.NamespacedName, obj Object) error

// VarsSourceError is a substituteFrom object that could not be read (or
// whose kind is neither ConfigMap nor Secret). Unwrap gives the reading
// error, so apierrors.IsNotFound works on it.
type VarsSourceError struct {
	Kind, Namespace, Name string
	Err                   error
}

func (e *VarsSourceError) Error() string {
	return fmt.Sprintf("substitute from %s '%s/%s': %v", e.Kind, e.Namespace, e.Name, e.Err)
}

func (e *VarsSourceError) Unwrap() error { return e.Err }

// LoadVars returns the post-build variables of a Kustomization in
// namespace, as Flux's kustomize-controller gathers them: the data of the
// spec.postBuild.substituteFrom ConfigMaps and Secrets, later ones over
// earlier ones, then spec.postBuild.substitute over them all (MergeVars).
// A substituteFrom object marked optional that does not exist is skipped;
// any other failure to read one is a *VarsSourceError. As in Flux, line
// breaks are removed from every value. pb may be nil (no variables).
func LoadVars(ctx context.Context, namespace string, pb *kustomizev1.PostBuild, get GetFunc) (map[string]string, error) {
	if pb == nil {
		return map[string]string{}, nil
	}
	var from []map[string]string
	for _, ref := range pb.SubstituteFrom {
		data, err := readVarsSource(ctx, get, types.NamespacedName{Namespace: namespace, Name: ref.Name}, ref.Kind)
		if apierrors.IsNotFound(err) && ref.Optional {
			continue
		}
		if err != nil {
			return nil, &VarsSourceError{Kind: ref.Kind, Namespace: namespace, Name: ref.Name, Err: err}
		}
		from = append(from, data)
	}
	vars := MergeVars(pb.Substitute, from...)
	for k, v := range vars {
		vars[k] = strings.ReplaceAll(v, "\n", "")
	}
	return vars, nil
}

// readVarsSource reads the data of one substituteFrom object.
func readVarsSource(ctx context.Context, get GetFunc, key types.NamespacedName, kind string) (map[string]string, error) {
	switch kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err := get(ctx, key, &cm); err != nil {
			return nil, err
		}
		return cm.Data, nil
	case "Secret":
		var s corev1.Secret
		if err := get(ctx, key, &s); err != nil {
			return nil, err
		}
		data := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
		return data, nil
	}
	return nil, fmt.Errorf("kind %q is not ConfigMap or Secret", kind)
}
