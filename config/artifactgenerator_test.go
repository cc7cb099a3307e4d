package config_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// splitMonorepo is flux2-kustomize-helm-example's clusters/*/artifacts.yaml
// (flux-api.md §10.2): one GitRepository split into two ExternalArtifacts.
const splitMonorepo = `
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: split-monorepo}
spec:
  sources:
    - alias: monorepo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: infrastructure
      originRevision: "@monorepo"
      copy:
        - from: "@monorepo/infrastructure/**"
          to: "@artifact/"
    - name: apps
      originRevision: "@monorepo"
      copy:
        - from: "@monorepo/apps/**"
          to: "@artifact/"`

// everyField uses every field of §2.8: all five source kinds, a
// pathPattern with templated names, commonMetadata, revision, exclude and
// the three strategies.
const everyField = `
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: every-field}
spec:
  commonMetadata:
    labels: {team: platform}
    annotations: {owner: sre}
  sources:
    - {alias: monorepo, kind: GitRepository, name: monorepo}
    - {alias: charts_1, kind: OCIRepository, name: charts, namespace: shared}
    - {alias: config, kind: Bucket, name: config}
    - {alias: podinfo, kind: HelmChart, name: podinfo}
    - {alias: ext, kind: ExternalArtifact, name: third-party}
  pathPattern: "@monorepo/apps/{app}/envs/{env}"
  artifacts:
    - name: "{{ .app }}-{{ .env }}"
      revision: "@monorepo"
      originRevision: "@monorepo"
      copy:
        - from: "@monorepo/apps/{{ .app }}/envs/{{ .env }}/**"
          to: "@artifact/"
          exclude: ["*.md", "tests/**"]
        - from: "@config/{{ .env }}/values.yaml"
          to: "@artifact/values.yaml"
          strategy: Merge
        - from: "@podinfo/*.tgz"
          to: "@artifact/chart/"
          strategy: Extract
        - from: "@ext/base/"
          to: "@artifact/base/"
          strategy: Overwrite`

// TestArtifactGeneratorExamplesAreAccepted creates the valid examples with
// strict field validation and reads every spec field back unchanged.
func TestArtifactGeneratorExamplesAreAccepted(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	for _, manifest := range []string{splitMonorepo, everyField} {
		obj, res := object(t, ns, manifest)
		t.Run(obj.GetName(), func(t *testing.T) {
			want, _ := yaml.Marshal(obj.Object["spec"])
			if _, err := env.Dynamic.Resource(res).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("refused: %v", err)
			}
			got, err := env.Dynamic.Resource(res).Namespace(ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if spec, _ := yaml.Marshal(got.Object["spec"]); string(spec) != string(want) {
				t.Errorf("spec read back as\n%s\nwant\n%s", spec, want)
			}
		})
	}
}

// generator renders an ArtifactGenerator manifest from a spec in YAML flow
// style, for the cases that break one rule each.
func generator(name, spec string) string {
	return fmt.Sprintf("apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata: {name: %s}\nspec: %s", name, spec)
}

// validSources and validArtifacts are the parts a case does not break.
const (
	validSources   = `[{alias: repo, kind: GitRepository, name: repo}]`
	validArtifacts = `[{name: out, copy: [{from: "@repo/**", to: "@artifact/"}]}]`
)

// repeat joins n copies of item into a YAML flow list.
func repeat(item string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

// withCopy is a valid spec whose single copy operation is op.
func withCopy(op string) string {
	return fmt.Sprintf("{sources: %s, artifacts: [{name: out, copy: [%s]}]}", validSources, op)
}

// withArtifact is a valid spec whose single artifact is a.
func withArtifact(a string) string {
	return fmt.Sprintf("{sources: %s, artifacts: [%s]}", validSources, a)
}

func TestArtifactGeneratorBadInputIsRefused(t *testing.T) {
	cases := []struct {
		name, spec string
		want       []string
	}{{
		name: "no sources",
		spec: fmt.Sprintf("{sources: [], artifacts: %s}", validArtifacts),
		want: []string{"spec.sources", "at least 1 items"},
	}, {
		name: "1001 sources",
		spec: fmt.Sprintf("{sources: %s, artifacts: %s}", repeat("{alias: repo, kind: GitRepository, name: repo}", 1001), validArtifacts),
		want: []string{"spec.sources", "must have at most 1000 items"},
	}, {
		name: "no artifacts",
		spec: fmt.Sprintf("{sources: %s}", validSources),
		want: []string{"spec.artifacts", "Required value"},
	}, {
		name: "1001 artifacts",
		spec: fmt.Sprintf("{sources: %s, artifacts: %s}", validSources, repeat(`{name: out, copy: [{from: "@repo/**", to: "@artifact/"}]}`, 1001)),
		want: []string{"spec.artifacts", "must have at most 1000 items"},
	}, {
		name: "an artifact without copy operations",
		spec: withArtifact(`{name: out, copy: []}`),
		want: []string{"spec.artifacts[0].copy", "at least 1 items"},
	}, {
		name: "101 excludes",
		spec: withCopy(fmt.Sprintf(`{from: "@repo/**", to: "@artifact/", exclude: %s}`, repeat(`"*.md"`, 101))),
		want: []string{"spec.artifacts[0].copy[0].exclude", "must have at most 100 items"},
	}, {
		name: "unknown strategy",
		spec: withCopy(`{from: "@repo/**", to: "@artifact/", strategy: Append}`),
		want: []string{"spec.artifacts[0].copy[0].strategy", `Unsupported value: "Append"`, `"Overwrite", "Merge", "Extract"`},
	}, {
		name: "alias in upper case",
		spec: fmt.Sprintf("{sources: [{alias: Repo, kind: GitRepository, name: repo}], artifacts: %s}", validArtifacts),
		want: []string{"spec.sources[0].alias", "should match"},
	}, {
		name: "alias ending in a dash",
		spec: fmt.Sprintf("{sources: [{alias: repo-, kind: GitRepository, name: repo}], artifacts: %s}", validArtifacts),
		want: []string{"spec.sources[0].alias", "should match"},
	}, {
		name: "source name with an underscore",
		spec: fmt.Sprintf("{sources: [{alias: repo, kind: GitRepository, name: my_repo}], artifacts: %s}", validArtifacts),
		want: []string{"spec.sources[0].name", "should match"},
	}, {
		name: "source kind that holds no artifact",
		spec: fmt.Sprintf("{sources: [{alias: repo, kind: HelmRepository, name: repo}], artifacts: %s}", validArtifacts),
		want: []string{"spec.sources[0].kind", `Unsupported value: "HelmRepository"`},
	}, {
		name: "from without an alias",
		spec: withCopy(`{from: "repo/apps/**", to: "@artifact/"}`),
		want: []string{"spec.artifacts[0].copy[0].from", "should match"},
	}, {
		name: "to outside @artifact",
		spec: withCopy(`{from: "@repo/apps/**", to: "@repo/apps/"}`),
		want: []string{"spec.artifacts[0].copy[0].to", "should match"},
	}, {
		name: "revision without @",
		spec: withArtifact(`{name: out, revision: repo, copy: [{from: "@repo/**", to: "@artifact/"}]}`),
		want: []string{"spec.artifacts[0].revision", "should match"},
	}, {
		name: "originRevision naming a path",
		spec: withArtifact(`{name: out, originRevision: "@repo/apps", copy: [{from: "@repo/**", to: "@artifact/"}]}`),
		want: []string{"spec.artifacts[0].originRevision", "should match"},
	}, {
		name: "pathPattern without an alias",
		spec: fmt.Sprintf(`{sources: %s, pathPattern: "apps/{app}", artifacts: [{name: "{{ .app }}", copy: [{from: "@repo/apps/{{ .app }}/**", to: "@artifact/"}]}]}`, validSources),
		want: []string{"spec.pathPattern", "should match"},
	}, {
		name: "templated name without pathPattern",
		spec: withArtifact(`{name: "{{ .app }}-prod", copy: [{from: "@repo/**", to: "@artifact/"}]}`),
		want: []string{"spec.artifacts[].name must be a lowercase RFC 1123 name", "needs a pathPattern"},
	}, {
		name: "name ending in a dash without pathPattern",
		spec: withArtifact(`{name: "apps-", copy: [{from: "@repo/**", to: "@artifact/"}]}`),
		want: []string{"spec.artifacts[].name must be a lowercase RFC 1123 name"},
	}, {
		name: "name in upper case",
		spec: withArtifact(`{name: Apps, copy: [{from: "@repo/**", to: "@artifact/"}]}`),
		want: []string{"spec.artifacts[0].name", "should match"},
	}, {
		name: "spec.suspend, which Flux's ArtifactGenerator lacks",
		spec: fmt.Sprintf("{suspend: true, sources: %s, artifacts: %s}", validSources, validArtifacts),
		want: []string{`unknown field "spec.suspend"`},
	}}

	ns := env.Namespace(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, res := object(t, ns, generator(fmt.Sprintf("bad-%d", i), tc.spec))
			_, err := env.Dynamic.Resource(res).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"})
			if err == nil {
				t.Fatalf("the API server accepted %s", tc.spec)
			}
			if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
				t.Fatalf("want Invalid or BadRequest, got %v (%T)", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err.Error(), w)
				}
			}
		})
	}
}

// TestArtifactGeneratorStatusRoundTrips writes every status field of §2.8
// through the status subresource, with strict validation, and reads it back:
// a field missing from the schema would be refused or pruned.
func TestArtifactGeneratorStatusRoundTrips(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	obj, res := object(t, ns, splitMonorepo)
	created, err := env.Dynamic.Resource(res).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"})
	if err != nil {
		t.Fatal(err)
	}
	var status map[string]any
	if err := yaml.Unmarshal([]byte(`
conditions:
  - {type: Ready, status: "True", reason: Succeeded, message: "reconciliation succeeded", observedGeneration: 1, lastTransitionTime: "2026-01-02T03:04:05Z"}
inventory:
  - {name: apps, namespace: `+ns+`, digest: "sha256:0f3a", filename: "1a2b.tar.gz"}
  - {name: infrastructure, namespace: `+ns+`, digest: "sha256:9c4d", filename: "3c4d.tar.gz"}
observedSourcesDigest: "sha256:77aa"
lastHandledReconcileAt: "2026-01-02T03:04:05Z"`), &status); err != nil {
		t.Fatal(err)
	}
	created.Object["status"] = status
	if _, err := env.Dynamic.Resource(res).Namespace(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{FieldValidation: "Strict"}); err != nil {
		t.Fatalf("status refused: %v", err)
	}
	got, err := env.Dynamic.Resource(res).Namespace(ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := yaml.Marshal(status)
	if back, _ := yaml.Marshal(got.Object["status"]); string(back) != string(want) {
		t.Errorf("status read back as\n%s\nwant\n%s", back, want)
	}
}
