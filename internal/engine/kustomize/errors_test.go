package kustomize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// writeTree creates files (slash path -> content) under a new temporary
// directory and returns it. A content starting with "symlink:" creates a
// symbolic link to the rest of the content.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	cmA = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: ns\ndata:\n  k: v\n"
	cmB = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: ns\n"
)

// kustomization returns a kustomization.yaml with the given body.
func kustomization(body string) string {
	return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + body
}

func TestBuildErrors(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte(cmA), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := func(*unstructured.Unstructured) error { return errors.New("no key can decrypt it") }
	cases := []struct {
		name    string
		files   map[string]string
		opts    Options
		wantErr error
		errHas  []string
	}{
		{name: "missing path", files: map[string]string{"a.yaml": cmA}, opts: Options{Path: "./apps/prod"},
			wantErr: ErrPathNotFound, errHas: []string{`kustomization path "./apps/prod" does not exist`}},
		{name: "path is a file", files: map[string]string{"a.yaml": cmA}, opts: Options{Path: "a.yaml"},
			wantErr: ErrPathNotFound, errHas: []string{`"a.yaml" is a file`}},
		{name: "path escapes", files: map[string]string{"a.yaml": cmA}, opts: Options{Path: "apps/../../etc"},
			wantErr: ErrPathEscapes, errHas: []string{`kustomization path "apps/../../etc" leaves the artifact`}},
		{name: "path escapes by symlink", files: map[string]string{"link": "symlink:" + outside}, opts: Options{Path: "link"},
			wantErr: ErrPathEscapes, errHas: []string{`kustomization path "link"`, `path "link" is outside the artifact root`}},
		{name: "generated resource escapes by symlink", files: map[string]string{"app/a.yaml": cmA, "app/stolen.yaml": "symlink:" + filepath.Join(outside, "secret.yaml")},
			opts: Options{Path: "app"}, wantErr: ErrPathEscapes, errHas: []string{"app/stolen.yaml"}},
		{name: "listed resource escapes by symlink", files: map[string]string{
			"app/kustomization.yaml": kustomization("resources:\n  - stolen.yaml\n"),
			"app/stolen.yaml":        "symlink:" + filepath.Join(outside, "secret.yaml")},
			opts: Options{Path: "app"}, wantErr: ErrPathEscapes, errHas: []string{"app/stolen.yaml", "outside the artifact root"}},
		{name: "resource above the root", files: map[string]string{"app/kustomization.yaml": kustomization("resources:\n  - ../../x.yaml\n")},
			opts: Options{Path: "app"}, wantErr: ErrPathEscapes, errHas: []string{`path "../x.yaml" is outside the artifact root`}},
		{name: "remote https resource", files: map[string]string{"kustomization.yaml": kustomization("resources:\n  - https://example.com/app.yaml\n")},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused,
			errHas: []string{`kustomization.yaml: resources entry "https://example.com/app.yaml" is remote`, "--no-remote-bases"}},
		{name: "remote github base", files: map[string]string{"kustomization.yaml": kustomization("resources:\n  - github.com/org/repo//deploy?ref=v1\n")},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{"github.com/org/repo//deploy?ref=v1"}},
		{name: "remote scp base in a base", files: map[string]string{
			"app/kustomization.yaml":  kustomization("resources:\n  - ../base\n"),
			"base/kustomization.yaml": kustomization("bases:\n  - git@github.com:org/repo.git\n")},
			opts: Options{Path: "app", NoRemoteBases: true}, wantErr: ErrRemoteRefused,
			errHas: []string{`base/kustomization.yaml: bases entry "git@github.com:org/repo.git"`}},
		{name: "forced git component", files: map[string]string{"kustomization.yaml": kustomization("components:\n  - git::https://host/repo.git//c\n")},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{"components entry"}},
		{name: "remote spec component", files: map[string]string{"a.yaml": cmA},
			opts: Options{NoRemoteBases: true, Components: []string{"https://github.com/org/repo//component"}}, wantErr: ErrRemoteRefused},
		{name: "remote patch file", files: map[string]string{"kustomization.yaml": kustomization("resources:\n  - a.yaml\npatches:\n  - path: http://example.com/p.yaml\n"), "a.yaml": cmA},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{"patches entry"}},
		{name: "remote generator source", files: map[string]string{"kustomization.yaml": kustomization("secretGenerator:\n  - name: s\n    files:\n      - k=https://example.com/k\n")},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{"secretGenerator entry"}},
		{name: "remote file in generator file with query", files: map[string]string{"kustomization.yaml": kustomization("configMapGenerator:\n  - name: c\n    files:\n      - https://example.com/f?v=1\n")},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{`configMapGenerator entry "https://example.com/f?v=1"`}},
		{name: "remote path in inline transformer", files: map[string]string{"kustomization.yaml": kustomization(
			"transformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata:\n      name: p\n    path: https://example.com/p.yaml\n")},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{`plugin configuration entry "https://example.com/p.yaml"`}},
		{name: "remote path in transformer file", files: map[string]string{"kustomization.yaml": kustomization("transformers:\n  - t.yaml\n"),
			"t.yaml": "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata:\n  name: p\npaths:\n  - http://example.com/p.yaml\n"},
			opts: Options{NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{`t.yaml: plugin configuration entry "http://example.com/p.yaml"`}},
		{name: "remote path in transformer directory", files: map[string]string{"app/kustomization.yaml": kustomization("transformers:\n  - ../tdir\n"),
			"tdir/kustomization.yaml":  kustomization("resources:\n  - p.yaml\n  - ../tdir2\n"),
			"tdir2/kustomization.yaml": kustomization("resources:\n  - ../tdir\n  - q.yaml\n"),
			"tdir/p.yaml":              "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\n",
			"tdir2/q.yaml":             "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: r\nreplacements:\n  - path: https://example.com/r.yaml\n"},
			opts: Options{Path: "app", NoRemoteBases: true}, wantErr: ErrRemoteRefused, errHas: []string{`tdir2/q.yaml: plugin configuration entry "https://example.com/r.yaml"`}},
		{name: "file repository always refused", files: map[string]string{"kustomization.yaml": kustomization("resources:\n  - file:///etc/repo\n")},
			wantErr: ErrRemoteRefused, errHas: []string{"reads a repository from the controller's disk"}},
		{name: "malformed yaml generated", files: map[string]string{"apps/ok.yaml": cmA, "apps/bad.yaml": "kind: ConfigMap\n  metadata: [\n"},
			opts: Options{Path: "apps"}, wantErr: ErrInvalidManifest, errHas: []string{"apps/bad.yaml: document 1"}},
		{name: "not a manifest generated", files: map[string]string{"apps/values.yaml": "replicaCount: 2\n"},
			opts: Options{Path: "apps"}, wantErr: ErrInvalidManifest, errHas: []string{"apps/values.yaml: document 1: not a Kubernetes object: apiVersion is missing"}},
		{name: "missing kind generated", files: map[string]string{"apps/a.yaml": cmA + "---\napiVersion: v1\nmetadata:\n  name: x\n"},
			opts: Options{Path: "apps"}, wantErr: ErrInvalidManifest, errHas: []string{"apps/a.yaml: document 2: not a Kubernetes object: kind is missing"}},
		{name: "list generated", files: map[string]string{"apps/a.yaml": "- a\n- b\n"},
			opts: Options{Path: "apps"}, wantErr: ErrInvalidManifest, errHas: []string{"apps/a.yaml: document 1: not a Kubernetes object"}},
		{name: "malformed yaml listed", files: map[string]string{"apps/kustomization.yaml": kustomization("resources:\n  - bad.yaml\n"), "apps/bad.yaml": "kind: ConfigMap\n  metadata: [\n"},
			opts: Options{Path: "apps"}, errHas: []string{`kustomize build of "apps" failed`, "bad.yaml", "line 2"}},
		{name: "missing kind listed", files: map[string]string{"apps/kustomization.yaml": kustomization("resources:\n  - a.yaml\n"), "apps/a.yaml": "apiVersion: v1\nmetadata:\n  name: x\n"},
			opts: Options{Path: "apps"}, errHas: []string{"apps/a.yaml"}},
		{name: "malformed kustomization", files: map[string]string{"apps/kustomization.yaml": "resources: [\n"},
			opts: Options{Path: "apps"}, wantErr: ErrInvalidManifest, errHas: []string{"apps/kustomization.yaml"}},
		{name: "unknown kustomization field", files: map[string]string{"apps/kustomization.yaml": kustomization("resourcez:\n  - a.yaml\n")},
			opts: Options{Path: "apps"}, errHas: []string{`kustomize build of "apps" failed`, "resourcez"}},
		{name: "missing listed resource", files: map[string]string{"apps/kustomization.yaml": kustomization("resources:\n  - gone.yaml\n")},
			opts: Options{Path: "apps"}, errHas: []string{"gone.yaml"}},
		{name: "missing component", files: map[string]string{"a.yaml": cmA}, opts: Options{Components: []string{"comp"}},
			errHas: []string{`kustomization.yaml: component "comp" does not exist`, "ignoreMissingComponents"}},
		{name: "component above the root", files: map[string]string{"a.yaml": cmA}, opts: Options{Components: []string{"../../c"}},
			wantErr: ErrPathEscapes, errHas: []string{`component "../../c": path "../../c" is outside the artifact root`}},
		{name: "duplicate files", files: map[string]string{"apps/a.yaml": cmA, "apps/b.yaml": cmA},
			opts: Options{Path: "apps"}, wantErr: ErrDuplicate, errHas: []string{"already registered id: ConfigMap.v1.[noGrp]/a.ns", "b.yaml"}},
		{name: "duplicate across versions", files: map[string]string{
			"apps/a.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ns\n",
			"apps/b.yaml": "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ns\n"},
			opts: Options{Path: "apps"}, wantErr: ErrDuplicate,
			errHas: []string{"Deployment/ns/web is built twice (from apps/a.yaml and from apps/b.yaml)"}},
		{name: "duplicate after substitution", files: map[string]string{"apps/a.yaml": cmA,
			"apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ns\n"},
			opts: Options{Path: "apps", PostBuild: &PostBuild{Vars: map[string]string{"name": "a"}}}, wantErr: ErrDuplicate,
			errHas: []string{"ConfigMap/ns/a is built twice"}},
		{name: "strict substitution", files: map[string]string{"apps/a.yaml": cmA,
			"apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: ns\ndata:\n  region: ${cluster_region}\n"},
			opts: Options{Path: "apps", PostBuild: &PostBuild{Vars: map[string]string{"other": "x"}}}, wantErr: ErrSubstitution,
			errHas: []string{"ConfigMap/ns/b (from apps/b.yaml)", `variable "cluster_region" is not set`, "${cluster_region}"}},
		{name: "strict substitution with always and no vars", files: map[string]string{"b.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n"},
			opts: Options{PostBuild: &PostBuild{Strategy: kustomizev1.SubstituteAlways}}, wantErr: ErrSubstitution,
			errHas: []string{"Namespace/${ns} (from b.yaml)", `variable "ns" is not set`}},
		{name: "substituted value breaks yaml", files: map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: ${v}\n"},
			opts: Options{PostBuild: &PostBuild{Vars: map[string]string{"v": "a: b: c"}}}, wantErr: ErrSubstitution,
			errHas: []string{"ConfigMap/a (from a.yaml)", "not valid YAML"}},
		{name: "unsupported substitution", files: map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: ${v:+x}\n"},
			opts: Options{PostBuild: &PostBuild{Vars: map[string]string{"v": "1"}}}, wantErr: ErrSubstitution,
			errHas: []string{"line 3, column 6: ${v:+x}: the ${var:+word} form is not supported"}},
		{name: "invalid variable name", files: map[string]string{"a.yaml": cmA},
			opts: Options{PostBuild: &PostBuild{Vars: map[string]string{"cluster-name": "x"}}}, wantErr: ErrSubstitution,
			errHas: []string{`variable name "cluster-name" is invalid`}},
		{name: "unknown strategy", files: map[string]string{"a.yaml": cmA},
			opts: Options{PostBuild: &PostBuild{Strategy: "Sometimes"}}, wantErr: ErrSubstitution, errHas: []string{`"Sometimes"`}},
		{name: "decrypt hook fails", files: map[string]string{"a.yaml": cmA}, opts: Options{Decrypt: failing},
			wantErr: ErrDecryption, errHas: []string{"ConfigMap/ns/a (from a.yaml): no key can decrypt it"}},
		{name: "decrypt file hook fails", files: map[string]string{
			"kustomization.yaml": kustomization("secretGenerator:\n  - name: s\n    envs:\n      - creds.env\n"), "creds.env": "A=1\n"},
			opts:    Options{DecryptFile: func(SecretSource) ([]byte, error) { return nil, errors.New("wrong key") }},
			wantErr: ErrDecryption, errHas: []string{"secretGenerator source creds.env: wrong key"}},
		{name: "helm charts are disabled", files: map[string]string{
			"kustomization.yaml": kustomization("helmCharts:\n  - name: podinfo\n    repo: https://example.com\n")},
			errHas: []string{`kustomize build of "./" failed`, "HelmChartInflationGenerator"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			res, err := Build(context.Background(), root, tc.opts)
			if err == nil {
				t.Fatalf("Build succeeded with %d objects, want an error", len(res.Objects))
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q is not %v", err, tc.wantErr)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			t.Log(err)
			if strings.Contains(err.Error(), root) {
				t.Errorf("error %q shows the artifact's location on disk", err)
			}
		})
	}
}

func TestBuildEmptyDirectory(t *testing.T) {
	root := writeTree(t, map[string]string{"apps/README.md": "no manifests here\n"})
	res, err := Build(context.Background(), root, Options{Path: "apps"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(res.Objects) != 0 || len(res.Manifests) != 0 {
		t.Fatalf("got %d objects, want none", len(res.Objects))
	}
}

func TestBuildRemoteAllowedLeavesLocalBuildsAlone(t *testing.T) {
	// Remote bases allowed: a local build is unaffected, and a file://
	// repository is still refused.
	root := writeTree(t, map[string]string{"a.yaml": cmA})
	if _, err := Build(context.Background(), root, Options{}); err != nil {
		t.Fatalf("Build: %v", err)
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, artifactRoot, Options{Path: "apps/base"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}
