package kustomize

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// objectsGet serves ConfigMaps and Secrets from maps, as a client would.
func objectsGet(cms map[string]map[string]string, secrets map[string]map[string][]byte) GetFunc {
	return func(_ context.Context, key types.NamespacedName, obj Object) error {
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			if d, ok := cms[key.String()]; ok {
				o.Data = d
				return nil
			}
			return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
		case *corev1.Secret:
			if d, ok := secrets[key.String()]; ok {
				o.Data = d
				return nil
			}
			return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
		}
		return errors.New("unexpected kind")
	}
}

func TestLoadVars(t *testing.T) {
	get := objectsGet(
		map[string]map[string]string{"apps/first": {"a": "cm-a", "b": "cm-b", "c": "cm-c"}},
		map[string]map[string][]byte{"apps/second": {"b": []byte("secret-b\n"), "d": []byte("multi\nline")}},
	)
	pb := &kustomizev1.PostBuild{
		Substitute: map[string]string{"c": "inline-c"},
		SubstituteFrom: []kustomizev1.SubstituteReference{
			{Kind: "ConfigMap", Name: "first"},
			{Kind: "Secret", Name: "absent", Optional: true},
			{Kind: "Secret", Name: "second"},
		},
	}
	got, err := LoadVars(context.Background(), "apps", pb, get)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "cm-a", "b": "secret-b", "c": "inline-c", "d": "multiline"}
	if !maps.Equal(got, want) {
		t.Errorf("vars: want %v, got %v", want, got)
	}

	pb.SubstituteFrom[1].Optional = false
	_, err = LoadVars(context.Background(), "apps", pb, get)
	var se *VarsSourceError
	if !errors.As(err, &se) || !apierrors.IsNotFound(err) || se.Name != "absent" ||
		!strings.Contains(err.Error(), "substitute from Secret 'apps/absent'") {
		t.Errorf("a required missing Secret: want a VarsSourceError naming it, got %v", err)
	}

	pb.SubstituteFrom = []kustomizev1.SubstituteReference{{Kind: "Deployment", Name: "x", Optional: true}}
	if _, err := LoadVars(context.Background(), "apps", pb, get); err == nil || !strings.Contains(err.Error(), "not ConfigMap or Secret") {
		t.Errorf("a bad kind: want an error, got %v", err)
	}
	if got, err := LoadVars(context.Background(), "apps", nil, nil); err != nil || len(got) != 0 {
		t.Errorf("no postBuild: want no vars, got %v %v", got, err)
	}
}
