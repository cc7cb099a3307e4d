package manifest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{
			name: "multi-document with blanks and comments",
			in: `# leading comment
---
apiVersion: v1
kind: Namespace
metadata:
  name: a
---
# only a comment
---

---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
  namespace: a
data:
  key: "--- not a separator"
`,
			want: []string{"Namespace/a", "ConfigMap/b"},
		},
		{
			name: "no leading separator, trailing separator",
			in:   "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n",
			want: []string{"Namespace/x"},
		},
		{
			name: "list kinds are expanded",
			in: `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: one}
- apiVersion: v1
  kind: Namespace
  metadata: {name: two}
`,
			want: []string{"Namespace/one", "Namespace/two"},
		},
		{
			name: "JSON document",
			in:   `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "j"}}`,
			want: []string{"Namespace/j"},
		},
		{name: "empty stream", in: "", want: nil},
		{name: "missing name", in: "apiVersion: v1\nkind: Namespace\n", err: "document 1: object needs apiVersion, kind and metadata.name"},
		{name: "missing kind", in: "apiVersion: v1\nmetadata: {name: a}\n", err: "document 1"},
		{name: "bad YAML in second document", in: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n", err: "document 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(objs); !slices.Equal(got, tc.want) {
				t.Errorf("objects = %v, want %v", got, tc.want)
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ns(name string) string {
	return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n"
}

func TestReadFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "crds", "b.yaml"), ns("b"))
	write(t, filepath.Join(dir, "crds", "a.yml"), ns("a"))
	write(t, filepath.Join(dir, "crds", "README.md"), "not yaml")
	write(t, filepath.Join(dir, "crds", "nested", "c.yaml"), ns("c"))
	write(t, filepath.Join(dir, "single.txt"), ns("s1")+"---\n"+ns("s2"))

	objs, err := Read([]string{filepath.Join(dir, "crds"), filepath.Join(dir, "single.txt")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Namespace/a", "Namespace/b", "Namespace/s1", "Namespace/s2"}
	if got := names(objs); !slices.Equal(got, want) {
		t.Errorf("objects = %v, want %v", got, want)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "empty", "notes.txt"), "x")
	write(t, filepath.Join(dir, "bad.yaml"), ns("ok")+"---\napiVersion: v1\nkind: Namespace\n")
	for _, tc := range []struct {
		path string
		want string
	}{
		{filepath.Join(dir, "missing.yaml"), "no such file or directory"},
		{filepath.Join(dir, "empty"), "has no *.yaml files"},
		{filepath.Join(dir, "bad.yaml"), "bad.yaml: document 2"},
	} {
		_, err := Read([]string{tc.path})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s) = %v, want error containing %q", tc.path, err, tc.want)
		}
	}
}

func TestOrder(t *testing.T) {
	objs, err := Parse([]byte(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, namespace: flux-system}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gitrepositories.source.toolkit.fluxcd.io}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: v1
kind: Namespace
metadata: {name: flux-system}
`))
	if err != nil {
		t.Fatal(err)
	}
	first, rest := Order(objs)
	if got, want := names(first), []string{"CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io", "Namespace/flux-system"}; !slices.Equal(got, want) {
		t.Errorf("first = %v, want %v", got, want)
	}
	if got, want := names(rest), []string{"GitRepository/repo", "ConfigMap/cm"}; !slices.Equal(got, want) {
		t.Errorf("rest = %v, want %v", got, want)
	}
}
