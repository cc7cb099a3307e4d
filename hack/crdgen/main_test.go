package main

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const imagePolicyCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: imagepolicies.image.toolkit.fluxcd.io
spec:
  group: image.toolkit.fluxcd.io
  names:
    kind: ImagePolicy
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
`

func TestDecorateServesLegacyVersionWithStorageSchema(t *testing.T) {
	var crd map[string]any
	if err := yaml.Unmarshal([]byte(imagePolicyCRD), &crd); err != nil {
		t.Fatal(err)
	}
	if err := decorate(crd); err != nil {
		t.Fatal(err)
	}
	versions := crd["spec"].(map[string]any)["versions"].([]any)
	if len(versions) != 2 {
		t.Fatalf("want 2 versions, got %d", len(versions))
	}
	v1, legacy := versions[0].(map[string]any), versions[1].(map[string]any)
	if legacy["name"] != "v1beta2" || legacy["storage"] != false || legacy["served"] != true || legacy["deprecated"] != true {
		t.Errorf("legacy version wrong: %v", legacy)
	}
	if v1["storage"] != true {
		t.Errorf("v1 must stay the storage version")
	}
	if !strings.Contains(legacy["deprecationWarning"].(string), "image.toolkit.fluxcd.io/v1") {
		t.Errorf("warning should name the version to move to: %v", legacy["deprecationWarning"])
	}
	meta := crd["metadata"].(map[string]any)
	if meta["annotations"].(map[string]any)["kustomize.toolkit.fluxcd.io/substitute"] != "disabled" {
		t.Errorf("substitute opt-out annotation missing")
	}
	if meta["labels"].(map[string]any)["app.kubernetes.io/component"] != "image-reflector-controller" {
		t.Errorf("component label wrong: %v", meta["labels"])
	}

	// A second pass must not add the version again.
	if err := decorate(crd); err != nil {
		t.Fatal(err)
	}
	if n := len(crd["spec"].(map[string]any)["versions"].([]any)); n != 2 {
		t.Errorf("decorate is not idempotent: %d versions", n)
	}
}

func TestDecorateRejectsNonCRD(t *testing.T) {
	if err := decorate(map[string]any{"kind": "ConfigMap"}); err == nil {
		t.Fatal("want an error for an object without spec and metadata")
	}
}

func TestAddLegacyVersionNeedsSource(t *testing.T) {
	spec := map[string]any{"versions": []any{map[string]any{"name": "v2"}}}
	err := addLegacyVersion(spec, legacyVersion{group: "g", kind: "K", from: "v1", serve: "v1beta2"})
	if err == nil || !strings.Contains(err.Error(), "no version v1") {
		t.Fatalf("want a clear error, got %v", err)
	}
}
