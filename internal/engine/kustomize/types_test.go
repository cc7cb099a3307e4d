package kustomize

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestBuiltObjectsHoldJSONTypes: objects go on to DeepCopy, which panics on
// the plain ints kyaml produces; every number must be int64 or float64.
func TestBuiltObjectsHoldJSONTypes(t *testing.T) {
	dir := t.TempDir()
	manifest := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers: [{name: a, image: b, ports: [{containerPort: 8080}]}]\n"
	if err := os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Build(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range res.Objects {
		_ = obj.DeepCopy() // panics on a non-JSON type
		if r, ok := obj.Object["spec"].(map[string]any)["replicas"].(int64); !ok || r != 3 {
			t.Errorf("replicas = %#v, want int64 3", obj.Object["spec"].(map[string]any)["replicas"])
		}
	}
}
