package helmtest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"sigs.k8s.io/yaml"
)

// ModTime is the modification time of every file of a packaged chart, so
// that packaging a chart twice gives the same bytes.
var ModTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// Dependency is an entry of Chart.yaml's dependencies.
type Dependency struct {
	Name       string
	Version    string
	Repository string
	Alias      string
	Condition  string
}

// Chart is a Helm chart a test writes: its Chart.yaml fields and its files.
// The setters change the chart and return it, for chaining; WithVersion
// copies it. The zero value is not usable: start with NewChart or
// ConfigMapChart.
type Chart struct {
	name, version string
	apiVersion    string
	appVersion    string
	description   string
	chartType     string
	kubeVersion   string
	annotations   map[string]string
	dependencies  []Dependency
	values        *string
	schema        *string
	files         map[string]string // path in the chart → content
	vendored      []*Chart
}

// NewChart is an empty apiVersion v2 application chart: Chart.yaml only.
func NewChart(name, version string) *Chart {
	return &Chart{name: name, version: version, apiVersion: chartv2.APIVersionV2, files: map[string]string{}}
}

// ConfigMapChart is a small working chart: values `message: hello` and
// `replicaCount: 1`, and one ConfigMap `<release>-<chart>` whose data holds
// the message and the chart's version, so a test can tell from the cluster
// which version and values were installed.
func ConfigMapChart(name, version string) *Chart {
	return NewChart(name, version).
		Description("A chart the Driftless tests wrote").
		AppVersion(version).
		Values("message: hello\nreplicaCount: 1\n").
		Template("configmap.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  message: {{ .Values.message | quote }}
  chartVersion: {{ .Chart.Version | quote }}
  replicaCount: {{ .Values.replicaCount | quote }}
`)
}

// Name is the chart's name.
func (c *Chart) Name() string { return c.name }

// Version is the chart's version.
func (c *Chart) Version() string { return c.version }

// Filename is `<name>-<version>.tgz`, the name Helm packages the chart as.
func (c *Chart) Filename() string { return c.name + "-" + c.version + ".tgz" }

// WithVersion is a copy of the chart at another version (and appVersion
// when it followed the version).
func (c *Chart) WithVersion(version string) *Chart {
	cp := *c
	cp.version = version
	if c.appVersion == c.version {
		cp.appVersion = version
	}
	cp.annotations = cloneMap(c.annotations)
	cp.files = cloneMap(c.files)
	cp.dependencies = append([]Dependency(nil), c.dependencies...)
	cp.vendored = append([]*Chart(nil), c.vendored...)
	return &cp
}

// APIVersion sets Chart.yaml's apiVersion (v2 by default; v1 for a Helm 2
// chart).
func (c *Chart) APIVersion(v string) *Chart { c.apiVersion = v; return c }

// AppVersion sets Chart.yaml's appVersion.
func (c *Chart) AppVersion(v string) *Chart { c.appVersion = v; return c }

// Description sets Chart.yaml's description.
func (c *Chart) Description(d string) *Chart { c.description = d; return c }

// Type sets Chart.yaml's type: application or library.
func (c *Chart) Type(t string) *Chart { c.chartType = t; return c }

// KubeVersion sets Chart.yaml's kubeVersion constraint.
func (c *Chart) KubeVersion(v string) *Chart { c.kubeVersion = v; return c }

// Annotation sets an annotation of Chart.yaml.
func (c *Chart) Annotation(key, value string) *Chart {
	if c.annotations == nil {
		c.annotations = map[string]string{}
	}
	c.annotations[key] = value
	return c
}

// Values sets values.yaml, the chart's default values.
func (c *Chart) Values(yamlText string) *Chart { c.values = &yamlText; return c }

// Schema sets values.schema.json, which Helm checks the merged values
// against.
func (c *Chart) Schema(jsonText string) *Chart { c.schema = &jsonText; return c }

// Template adds templates/<name>.
func (c *Chart) Template(name, body string) *Chart {
	c.files[path.Join("templates", name)] = body
	return c
}

// File adds a file at path p in the chart (a values-prod.yaml beside
// values.yaml, a README.md, a .helmignore, files/...).
func (c *Chart) File(p, body string) *Chart {
	c.files[p] = body
	return c
}

// Hook adds templates/hooks/<name>.yaml: a ConfigMap `<release>-<name>`
// that is a Helm hook for events (comma-separated, as the helm.sh/hook
// annotation takes them: "pre-install,pre-upgrade"), deleted before it is
// created again. A ConfigMap needs no node to run on.
func (c *Chart) Hook(name, events string) *Chart {
	return c.Template(path.Join("hooks", name+".yaml"), hookConfigMap(name, events))
}

// Test adds templates/tests/<name>.yaml: a `helm test` hook, a ConfigMap
// `<release>-<name>` (it needs no node to run on).
func (c *Chart) Test(name string) *Chart {
	return c.Template(path.Join("tests", name+".yaml"), hookConfigMap(name, "test"))
}

func hookConfigMap(name, events string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-%s
  namespace: {{ .Release.Namespace }}
  annotations:
    helm.sh/hook: %q
    helm.sh/hook-delete-policy: before-hook-creation
data:
  hook: %q
  chartVersion: {{ .Chart.Version | quote }}
`, name, events, name)
}

// CRD adds crds/<name>: a manifest Helm applies before the templates and
// never templates. CRDManifest writes one.
func (c *Chart) CRD(name, manifest string) *Chart {
	c.files[path.Join("crds", name)] = manifest
	return c
}

// CRDManifest is a namespaced apiextensions.k8s.io/v1 CustomResourceDefinition
// of kind in group, version v1, plural the lower-case kind with an "s",
// accepting any fields.
func CRDManifest(group, kind string) string {
	plural := strings.ToLower(kind) + "s"
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[3]s.%[1]s
spec:
  group: %[1]s
  names:
    kind: %[2]s
    listKind: %[2]sList
    plural: %[3]s
    singular: %[4]s
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`, group, kind, plural, strings.ToLower(kind))
}

// Dependency adds an entry to Chart.yaml's dependencies. Whether the
// dependency is also in charts/ is up to the test (Vendor): an entry
// without it is what `helm dependency build` resolves.
func (c *Chart) Dependency(d Dependency) *Chart {
	c.dependencies = append(c.dependencies, d)
	return c
}

// Vendor puts sub, packaged, in charts/<name>-<version>.tgz, as `helm
// dependency build` leaves it.
func (c *Chart) Vendor(sub *Chart) *Chart {
	c.vendored = append(c.vendored, sub)
	return c
}

// Metadata is the chart's Chart.yaml as the SDK's type.
func (c *Chart) Metadata() *chartv2.Metadata {
	md := &chartv2.Metadata{
		APIVersion:  c.apiVersion,
		Name:        c.name,
		Version:     c.version,
		AppVersion:  c.appVersion,
		Description: c.description,
		Type:        c.chartType,
		KubeVersion: c.kubeVersion,
		Annotations: cloneMap(c.annotations),
	}
	for _, d := range c.dependencies {
		md.Dependencies = append(md.Dependencies, &chartv2.Dependency{
			Name: d.Name, Version: d.Version, Repository: d.Repository, Alias: d.Alias, Condition: d.Condition,
		})
	}
	return md
}

// Files are the chart's files as they appear in the chart directory,
// Chart.yaml first, then sorted by path.
func (c *Chart) Files() ([]*archive.BufferedFile, error) {
	chartYAML, err := yaml.Marshal(c.Metadata())
	if err != nil {
		return nil, fmt.Errorf("helmtest: chart %s: Chart.yaml: %w", c.name, err)
	}
	all := map[string][]byte{}
	for p, body := range c.files {
		all[p] = []byte(body)
	}
	if c.values != nil {
		all[chartutil.ValuesfileName] = []byte(*c.values)
	}
	if c.schema != nil {
		all[chartutil.SchemafileName] = []byte(*c.schema)
	}
	for _, sub := range c.vendored {
		data, err := sub.Package()
		if err != nil {
			return nil, fmt.Errorf("helmtest: chart %s: vendored %w", c.name, err)
		}
		all[path.Join(chartutil.ChartsDir, sub.Filename())] = data
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	files := []*archive.BufferedFile{{Name: chartutil.ChartfileName, ModTime: ModTime, Data: chartYAML}}
	for _, p := range paths {
		files = append(files, &archive.BufferedFile{Name: p, ModTime: ModTime, Data: all[p]})
	}
	return files, nil
}

// SDK is the chart as the Helm SDK's loader builds it from Files.
func (c *Chart) SDK() (*chartv2.Chart, error) {
	files, err := c.Files()
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("helmtest: chart %s %s: %w", c.name, c.version, err)
	}
	// The loader collects subcharts from a map: put them in name order so
	// the package is the same every time.
	deps := ch.Dependencies()
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name() < deps[j].Name() })
	ch.SetDependencies(deps...)
	return ch, nil
}

// Package is the chart packaged by the SDK as `helm package` does
// (<name>-<version>.tgz), the same bytes every time.
func (c *Chart) Package() ([]byte, error) {
	ch, err := c.SDK()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "helmtest-package-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file, err := chartutil.Save(ch, dir)
	if err != nil {
		return nil, fmt.Errorf("helmtest: package chart %s %s: %w", c.name, c.version, err)
	}
	return os.ReadFile(file)
}

// MustPackage is Package for a test: a failure ends it.
func (c *Chart) MustPackage(t testing.TB) []byte {
	t.Helper()
	data, err := c.Package()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// WriteDir writes the chart as a directory dir/<name> (a chart in a Git
// repository or a bucket) and returns that directory. Vendored charts are
// archives in its charts/.
func (c *Chart) WriteDir(dir string) (string, error) {
	files, err := c.Files()
	if err != nil {
		return "", err
	}
	root := filepath.Join(dir, c.name)
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return "", err
		}
	}
	return root, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
