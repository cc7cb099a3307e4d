package postrender

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// FilenameAnnotation is the annotation Helm sets on every document it passes
// to a post-renderer, naming the template the document came from, and
// removes again from what the post-renderer returns.
const FilenameAnnotation = "postrenderer.helm.sh/postrender-filename"

// ErrInvalidManifest means a document given to the post-renderer is not a
// Kubernetes object.
var ErrInvalidManifest = errors.New("invalid manifest")

// filenameLine finds the filename annotation in a document that does not
// parse, to name its template anyway.
var filenameLine = regexp.MustCompile(`(?m)^\s*"?postrenderer\.helm\.sh/postrender-filename"?\s*:\s*"?([^"\n]+?)"?\s*$`)

// parseDocuments splits a multi-document YAML stream into objects, skipping
// empty documents. A document that does not parse, or is not an object with
// an apiVersion and a kind, is refused naming its position in the stream
// (counting the non-empty documents from 1) and its template when Helm
// annotated it.
func parseDocuments(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	n := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading document %d: %w", ErrInvalidManifest, n+1, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		n++
		obj, err := parseDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("%w: document %d%s: %w", ErrInvalidManifest, n, templateOf(doc, obj), err)
		}
		objs = append(objs, obj)
	}
}

// parseDocument parses one non-empty document into an object.
func parseDocument(doc []byte) (*unstructured.Unstructured, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	// Through apimachinery's JSON, so whole numbers are int64 (as
	// unstructured objects hold them, and without float64's rounding).
	var content map[string]any
	if err := utiljson.Unmarshal(data, &content); err != nil {
		return nil, err
	}
	if content == nil {
		return nil, errors.New("not a YAML mapping")
	}
	obj := &unstructured.Unstructured{Object: content}
	if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
		return obj, fmt.Errorf("object %q has no apiVersion or no kind", obj.GetName())
	}
	return obj, nil
}

// templateOf names the template of a document for messages: " (template
// x)", or "" when Helm did not annotate it.
func templateOf(doc []byte, obj *unstructured.Unstructured) string {
	name := ""
	if obj != nil {
		name = obj.GetAnnotations()[FilenameAnnotation]
	}
	if name == "" {
		if m := filenameLine.FindSubmatch(doc); m != nil {
			name = string(m[1])
		}
	}
	if name == "" {
		return ""
	}
	return " (template " + name + ")"
}

// stripComments drops the comment lines of a document, so that a document
// of comments only counts as empty.
func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '#' {
			continue
		}
		out.Write(line)
	}
	return out.Bytes()
}

// writeDocuments serialises objects as a multi-document YAML stream.
func writeDocuments(objs []*unstructured.Unstructured) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	for i, obj := range objs {
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(obj), err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(data)
	}
	return &buf, nil
}

// describe names an object for messages: Kind/namespace/name, or Kind/name
// without a namespace, and its template when Helm annotated it.
func describe(obj *unstructured.Unstructured) string {
	ref := obj.GetKind() + "/" + obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		ref = obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	if t := obj.GetAnnotations()[FilenameAnnotation]; t != "" {
		ref += " (template " + t + ")"
	}
	return ref
}
