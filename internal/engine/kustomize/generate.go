package kustomize

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/yaml"
)

// findKustomizationFile returns the name of the kustomization file of the
// resolved directory dir, or "" when it has none.
func findKustomizationFile(fsys *confinedFS, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if fsys.Exists(p) && !fsys.IsDir(p) {
			return name
		}
	}
	return ""
}

// generateKustomization lists the manifests below the resolved directory
// dir as the resources of a new kustomization: every *.yaml and *.yml file,
// recursively, and every sub-directory that has its own kustomization file,
// without descending into it. Each file must hold Kubernetes objects.
func generateKustomization(fsys *confinedFS, dir string) (map[string]any, error) {
	var resources []any
	err := fsys.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return fsys.fileError(p, err)
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = "./" + filepath.ToSlash(rel)
		if info.IsDir() {
			if findKustomizationFile(fsys, p) != "" {
				resources = append(resources, rel)
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := fsys.ReadFile(p)
		if errors.Is(err, ErrPathEscapes) {
			return err
		}
		if err != nil {
			return fsys.fileError(p, err)
		}
		if err := checkManifests(data); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidManifest, fsys.rel(p), err)
		}
		resources = append(resources, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
	}
	if len(resources) > 0 {
		k["resources"] = resources
	}
	return k, nil
}

// checkManifests verifies that every YAML document of data is a
// Kubernetes object with an apiVersion and a kind (or is empty).
func checkManifests(data []byte) error {
	docs, err := splitDocuments(data)
	if err != nil {
		return err
	}
	for i, doc := range docs {
		var obj any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		if obj == nil {
			continue
		}
		m, ok := obj.(map[string]any)
		if !ok {
			return fmt.Errorf("document %d: not a Kubernetes object (a %T)", i+1, obj)
		}
		for _, field := range []string{"apiVersion", "kind"} {
			if s, _ := m[field].(string); s == "" {
				return fmt.Errorf("document %d: not a Kubernetes object: %s is missing", i+1, field)
			}
		}
	}
	return nil
}

// splitDocuments splits a multi-document YAML stream.
func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(doc)) != "" {
			docs = append(docs, doc)
		}
	}
}
