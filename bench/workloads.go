package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	// fleetNamespace holds the GitRepository and the Kustomizations.
	fleetNamespace = "flux-system"
	fleetSource    = "fleet"
	w1Path         = "apps/w1"
	w2Path         = "apps/w2"
	// w1Objects is how many objects one W1 Kustomization applies.
	w1Objects = 4
	// versionAnnotation marks every generated object with the fleet's
	// version, so that an upgrade changes every object.
	versionAnnotation = "bench.driftless.io/version"
)

// ksName and targetNamespace name the i-th Kustomization and its namespace.
func ksName(i int) string          { return fmt.Sprintf("ks-%04d", i) }
func targetNamespace(i int) string { return fmt.Sprintf("bench-%04d", i) }

// w1Files is the W1 path at version v (1 for install, 2 for upgrade): four
// objects per Kustomization, named by the post-build variable INDEX, the
// Deployment's replicas from PODS (0 by default, so no pods run).
func w1Files(v int) map[string]string {
	meta := func(kind string) string {
		return fmt.Sprintf("kind: %s\nmetadata:\n  name: app-${INDEX}\n  labels:\n    app: app-${INDEX}\n  annotations:\n    %s: \"v%d\"\n",
			kind, versionAnnotation, v)
	}
	return map[string]string{
		w1Path + "/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" +
			"- serviceaccount.yaml\n- service.yaml\n- deployment.yaml\n- ingress.yaml\n",
		w1Path + "/serviceaccount.yaml": "apiVersion: v1\n" + meta("ServiceAccount"),
		w1Path + "/service.yaml": "apiVersion: v1\n" + meta("Service") + `spec:
  selector:
    app: app-${INDEX}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`,
		w1Path + "/deployment.yaml": "apiVersion: apps/v1\n" + meta("Deployment") + fmt.Sprintf(`spec:
  replicas: ${PODS:=0}
  selector:
    matchLabels:
      app: app-${INDEX}
  template:
    metadata:
      labels:
        app: app-${INDEX}
    spec:
      serviceAccountName: app-${INDEX}
      containers:
      - name: app
        image: example.com/app:1.0.%d
        ports:
        - containerPort: 8080
`, v),
		w1Path + "/ingress.yaml": "apiVersion: networking.k8s.io/v1\n" + meta("Ingress") + `spec:
  rules:
  - host: app-${INDEX}.bench.invalid
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: app-${INDEX}
            port:
              name: http
`,
	}
}

// renderW1 is what the W1 Kustomization i applies at version v, rendered
// without GitOps: the same files with INDEX=i and PODS unset (0).
func renderW1(i, v int) ([]*unstructured.Unstructured, error) {
	files := w1Files(v)
	var out []*unstructured.Unstructured
	for _, name := range []string{"serviceaccount.yaml", "service.yaml", "deployment.yaml", "ingress.yaml"} {
		text := strings.NewReplacer("${INDEX}", strconv.Itoa(i), "${PODS:=0}", "0").Replace(files[w1Path+"/"+name])
		objs, err := decodeObjects(text)
		if err != nil {
			return nil, fmt.Errorf("render %s for index %d: %w", name, i, err)
		}
		for _, o := range objs {
			o.SetNamespace(targetNamespace(i))
		}
		out = append(out, objs...)
	}
	return out, nil
}

// w2Kinds are the kinds W2 mixes, in turn.
func w2Kinds() []string {
	return []string{"ConfigMap", "Secret", "ServiceAccount", "Service", "Deployment"}
}

// w2Files is the W2 path at version v: objects objects of mixed kinds in
// one Kustomization, one file per kind.
func w2Files(objects, v int) map[string]string {
	kinds := w2Kinds()
	docs := map[string]*strings.Builder{}
	for i := range objects {
		kind := kinds[i%len(kinds)]
		b := docs[kind]
		if b == nil {
			b = &strings.Builder{}
			docs[kind] = b
		}
		name := fmt.Sprintf("%s-%04d", strings.ToLower(kind), i)
		fmt.Fprintf(b, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  labels:\n    app: %s\n  annotations:\n    %s: \"v%d\"\n",
			apiVersionOf(kind), kind, name, name, versionAnnotation, v)
		switch kind {
		case "ConfigMap":
			fmt.Fprintf(b, "data:\n  index: \"%d\"\n  version: \"v%d\"\n", i, v)
		case "Secret":
			fmt.Fprintf(b, "stringData:\n  token: \"secret-%d-v%d\"\n", i, v)
		case "Service":
			fmt.Fprintf(b, "spec:\n  selector:\n    app: %s\n  ports:\n  - port: 80\n    targetPort: 8080\n", name)
		case "Deployment":
			fmt.Fprintf(b, "spec:\n  replicas: 0\n  selector:\n    matchLabels:\n      app: %s\n  template:\n    metadata:\n      labels:\n        app: %s\n"+
				"    spec:\n      containers:\n      - name: app\n        image: example.com/app:1.0.%d\n", name, name, v)
		}
	}
	files := map[string]string{}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, kind := range kinds {
		if docs[kind] == nil {
			continue
		}
		file := strings.ToLower(kind) + "s.yaml"
		files[w2Path+"/"+file] = docs[kind].String()
		kustomization += "- " + file + "\n"
	}
	files[w2Path+"/kustomization.yaml"] = kustomization
	return files
}

func apiVersionOf(kind string) string {
	if kind == "Deployment" {
		return "apps/v1"
	}
	return "v1"
}

// decodeObjects parses a multi-document YAML stream.
func decodeObjects(text string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
			continue
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// gitRepository is the one source every Kustomization uses.
func gitRepository(url string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "GitRepository",
		"metadata":   map[string]any{"name": fleetSource, "namespace": fleetNamespace},
		"spec": map[string]any{
			"interval": "1h",
			"url":      url,
			"ref":      map[string]any{"branch": repoBranch},
		},
	}}
}

// kustomization is the i-th Kustomization of path, as Flux's benchmark
// writes them: wait, prune, a timeout (1m there), post-build variables. A
// dependsOn of -1 means none.
func kustomization(i int, path string, dependsOn int, timeout string) *unstructured.Unstructured {
	spec := map[string]any{
		"interval":        "1h",
		"path":            "./" + path,
		"prune":           true,
		"wait":            true,
		"timeout":         timeout,
		"targetNamespace": targetNamespace(i),
		"sourceRef":       map[string]any{"kind": "GitRepository", "name": fleetSource},
		"postBuild": map[string]any{"substitute": map[string]any{
			"INDEX": strconv.Itoa(i),
			"PODS":  "0",
		}},
	}
	if dependsOn >= 0 {
		spec["dependsOn"] = []any{map[string]any{"name": ksName(dependsOn)}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": ksName(i), "namespace": fleetNamespace},
		"spec":       spec,
	}}
}
