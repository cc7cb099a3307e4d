package kustomize

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/openapi"

	"github.com/driftless/driftless/internal/engine/envsubst"
)

func TestMaxFileSize(t *testing.T) {
	big := cmA + "  big: " + strings.Repeat("x", 2048) + "\n"
	cases := []struct {
		name  string
		files map[string]string
		path  string
	}{
		{name: "generated kustomization", files: map[string]string{"app/big.yaml": big}},
		{name: "resource read by kustomize", files: map[string]string{
			"app/kustomization.yaml": kustomization("resources:\n- big.yaml\n"), "app/big.yaml": big}},
		{name: "patch read by kustomize", files: map[string]string{
			"app/kustomization.yaml": kustomization("resources:\n- a.yaml\npatches:\n- path: big.yaml\n"),
			"app/a.yaml":             cmA, "app/big.yaml": big}},
		{name: "kustomization file", files: map[string]string{
			"app/kustomization.yaml": kustomization("resources:\n- a.yaml\n# " + strings.Repeat("x", 2048) + "\n"),
			"app/a.yaml":             cmA}, path: "app/kustomization.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			_, err := Build(context.Background(), root, Options{Path: "app", MaxFileSize: 1024})
			file := tc.path
			if file == "" {
				file = "app/big.yaml"
			}
			if !errors.Is(err, ErrFileTooLarge) || !strings.Contains(err.Error(), file+" exceeds the limit of 1024 bytes") {
				t.Fatalf("error = %v, want %s refused for its size", err, file)
			}
			if strings.Contains(err.Error(), root) {
				t.Errorf("error %q names the artifact's location on disk", err)
			}
			if _, err := Build(context.Background(), root, Options{Path: "app"}); err != nil {
				t.Errorf("with the default limit of %d bytes: %v", DefaultMaxFileSize, err)
			}
		})
	}
}

func TestSubstitutionBudget(t *testing.T) {
	root := writeTree(t, map[string]string{"app/cm.yaml": cmA + "  grow: ${v//a/${v}}\n"})
	vars := map[string]string{"v": strings.Repeat("a", 100_000)}
	_, err := Build(context.Background(), root, Options{Path: "app", MaxFileSize: 1 << 20, PostBuild: &PostBuild{Vars: vars}})
	if !errors.Is(err, ErrSubstitution) || !errors.Is(err, envsubst.ErrExpansionTooLarge) ||
		!strings.Contains(err.Error(), "variable expansion exceeds 1048576 bytes") {
		t.Fatalf("error = %.300v, want the expansion refused at the manifest limit", err)
	}
}

// schemaTree is a kustomization with a custom OpenAPI schema, which
// kustomize keeps in process globals and parses for the patch.
var schemaTree = map[string]string{
	"custom/kustomization.yaml": kustomization("openapi:\n  path: schema.json\nresources:\n- a.yaml\n" +
		"patches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a, namespace: ns}\n    data: {k: patched}\n"),
	"custom/schema.json": `{"definitions": {"io.example.v1.Widget": {"type": "object",
		"x-kubernetes-group-version-kind": [{"group": "example.io", "kind": "Widget", "version": "v1"}]}}}`,
	"custom/a.yaml":            cmA,
	"plain/kustomization.yaml": kustomization("resources:\n- ../custom/a.yaml\n"),
}

func TestCustomSchemaDoesNotLeak(t *testing.T) {
	root := writeTree(t, schemaTree)
	if _, err := Build(context.Background(), root, Options{Path: "custom"}); err != nil {
		t.Fatal(err)
	}
	if v := openapi.GetSchemaVersion(); strings.Contains(v, "custom") {
		t.Fatalf("after the build, kustomize's schema is still %q", v)
	}
}

// TestBuildsWithSchemaChangesRunConcurrently mixes builds that change
// kustomize's schema with builds that read it (strategic-merge patches);
// run with -race, it checks that the schema gate keeps them apart.
func TestBuildsWithSchemaChangesRunConcurrently(t *testing.T) {
	root := writeTree(t, schemaTree)
	want, err := Build(context.Background(), artifactRoot, Options{Path: "apps/production"})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(4)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0:
				_, err := b.Build(context.Background(), root, Options{Path: "custom"})
				errs <- err
			case 1:
				_, err := b.Build(context.Background(), root, Options{Path: "plain"})
				errs <- err
			default:
				res, err := b.Build(context.Background(), artifactRoot, Options{Path: "apps/production"})
				if err == nil && res.Digest != want.Digest {
					err = errors.New("a concurrent build changed the result of apps/production")
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestGraphWalkerNotesSchemaChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want bool
	}{
		{name: "none", body: "resources:\n- a.yaml\n"},
		{name: "openapi", body: "openapi:\n  version: v1.21.2\nresources:\n- a.yaml\n", want: true},
		{name: "any case", body: "OpenAPI:\n  path: s.json\nresources:\n- a.yaml\n", want: true},
		{name: "remote", body: "resources:\n- https://example.com/a.yaml\n", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"k/kustomization.yaml": kustomization("resources:\n- ../base\n"),
				"base/kustomization.yaml": kustomization(tc.body), "base/a.yaml": cmA})
			fsys, err := newConfinedFS(root, true)
			if err != nil {
				t.Fatal(err)
			}
			w := newGraphWalker(fsys, false)
			if err := w.walk(fsys.root + "/k"); err != nil {
				t.Fatal(err)
			}
			if w.schema != tc.want {
				t.Fatalf("schema = %v, want %v", w.schema, tc.want)
			}
		})
	}
}
