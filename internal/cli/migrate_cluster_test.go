package cli

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// legacyObject is an object written at a legacy version for the migration.
type legacyObject struct {
	crd      string
	resource schema.GroupVersionResource // at v1beta2
	kind     string
	spec     map[string]any
}

func legacyObjects() []legacyObject {
	src := schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1beta2", Resource: "ocirepositories"}
	img := schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1beta2"}
	repo, pol := img, img
	repo.Resource, pol.Resource = "imagerepositories", "imagepolicies"
	return []legacyObject{
		{crd: "ocirepositories.source.toolkit.fluxcd.io", resource: src, kind: "OCIRepository", spec: map[string]any{
			"url": "oci://127.0.0.1:1/none", "interval": "1h", "suspend": true, "ref": map[string]any{"tag": "latest"}}},
		{crd: "imagerepositories.image.toolkit.fluxcd.io", resource: repo, kind: "ImageRepository", spec: map[string]any{
			"image": "ghcr.io/example/app", "interval": "1h", "suspend": true}},
		{crd: "imagepolicies.image.toolkit.fluxcd.io", resource: pol, kind: "ImagePolicy", spec: map[string]any{
			"imageRepositoryRef": map[string]any{"name": "podinfo"}, "policy": map[string]any{"semver": map[string]any{"range": "1.x"}}}},
	}
}

func (l legacyObject) object(ns, name string, extra map[string]any) *unstructured.Unstructured {
	spec := map[string]any{}
	for k, v := range l.spec {
		spec[k] = v
	}
	for k, v := range extra {
		spec[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": l.resource.GroupVersion().String(), "kind": l.kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}}
}

// probeField is a field only the v1beta2 schema has while v1beta2 is the
// storage version: seeing it kept by a dry-run create proves that the API
// server serves the CRD as changed (the schema and the storage version of
// a CRD are taken from the same revision of it).
const probeField = "migrateProbe"

// servedAsChanged tells whether the API server keeps probeField at v1beta2.
func servedAsChanged(ctx context.Context, l legacyObject, ns string) (bool, error) {
	obj := l.object(ns, "probe", map[string]any{probeField: "x"})
	got, err := env.Dynamic.Resource(l.resource).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return false, err
	}
	_, kept, _ := unstructured.NestedString(got.Object, "spec", probeField)
	return kept, nil
}

// updateCRD changes a CRD with retries on conflicts.
func updateCRD(ctx context.Context, c apiextensions.Interface, name string, change func(*apiextensionsv1.CustomResourceDefinition)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		crd, err := c.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(crd)
		_, err = c.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, crd, metav1.UpdateOptions{})
		return err
	})
}

// TestMigrateCluster stores objects at source.toolkit.fluxcd.io/v1beta2 and
// image.toolkit.fluxcd.io/v1beta2 (made the storage version for a while),
// switches the storage back to v1, migrates, and proves the objects were
// re-stored: once storedVersions is [v1], v1beta2 can be removed from the
// CRDs and every object still reads, which the API server refuses for an
// object stored at a version the CRD no longer has.
func TestMigrateCluster(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	crds, err := apiextensions.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	objs := legacyObjects()
	originals := map[string]apiextensionsv1.CustomResourceDefinitionSpec{}
	for _, l := range objs {
		crd, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, l.crd, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		originals[l.crd] = *crd.Spec.DeepCopy()
	}
	restore := func(ctx context.Context) {
		for name, spec := range originals {
			if err := updateCRD(ctx, crds, name, func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec = *spec.DeepCopy() }); err != nil {
				t.Errorf("restoring CRD %s: %v", name, err)
			}
		}
	}
	t.Cleanup(func() { restore(context.Background()) })

	// 1. v1beta2 becomes the storage version, with the probe field.
	for _, l := range objs {
		err := updateCRD(ctx, crds, l.crd, func(c *apiextensionsv1.CustomResourceDefinition) {
			for i := range c.Spec.Versions {
				v := &c.Spec.Versions[i]
				v.Storage = v.Name == "v1beta2"
				if v.Storage {
					v.Schema.OpenAPIV3Schema.Properties["spec"].Properties[probeField] = apiextensionsv1.JSONSchemaProps{Type: "string"}
				}
			}
		})
		if err != nil {
			t.Fatalf("making v1beta2 the storage version of %s: %v", l.crd, err)
		}
	}
	for _, l := range objs {
		testcluster.Eventually(t, time.Minute, l.crd+" served with v1beta2 as storage", func() (bool, error) {
			return servedAsChanged(ctx, l, ns)
		})
		if _, err := env.Dynamic.Resource(l.resource).Namespace(ns).Create(ctx, l.object(ns, "podinfo", nil), metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s at v1beta2: %v", l.kind, err)
		}
	}

	// 2. v1 is the storage version again; v1beta2 stays in storedVersions.
	restore(ctx)
	for _, l := range objs {
		testcluster.Eventually(t, time.Minute, l.crd+" served with v1 as storage", func() (bool, error) {
			kept, err := servedAsChanged(ctx, l, ns)
			return !kept, err
		})
		assertStoredVersions(t, crds, l.crd, []string{"v1", "v1beta2"})
	}

	// 3. --dry-run and a declined prompt change nothing.
	out, errOut, err := runFlux(t, "", "migrate", "--dry-run")
	if err != nil {
		t.Fatalf("migrate --dry-run: %v\n%s", err, errOut)
	}
	for _, l := range objs {
		if !strings.Contains(out, l.crd+": stored versions [v1 v1beta2] -> [v1]") {
			t.Errorf("dry-run does not list %s:\n%s", l.crd, out)
		}
	}
	if _, _, err := runFlux(t, "no\n", "migrate"); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("declined prompt: want a cancelled error, got %v", err)
	}
	for _, l := range objs {
		assertStoredVersions(t, crds, l.crd, []string{"v1", "v1beta2"})
	}

	// 4. The migration.
	_, errOut, err = runFlux(t, "y\n", "migrate")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut)
	}
	for _, l := range objs {
		if want := "✔ " + l.kind + "/" + ns + "/podinfo migrated to version v1"; !strings.Contains(errOut, want) {
			t.Errorf("migrate output lacks %q:\n%s", want, errOut)
		}
		assertStoredVersions(t, crds, l.crd, []string{"v1"})
		v1 := l.resource
		v1.Version = "v1"
		got, err := env.Dynamic.Resource(v1).Namespace(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range got.GetManagedFields() {
			if strings.HasSuffix(mf.APIVersion, "/v1beta2") {
				t.Errorf("%s: managedFields entry of %s still at %s", l.kind, mf.Manager, mf.APIVersion)
			}
		}
	}

	// 5. The proof: without v1beta2 in the CRDs the objects still read.
	for _, l := range objs {
		err := updateCRD(ctx, crds, l.crd, func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions = slices.DeleteFunc(c.Spec.Versions, func(v apiextensionsv1.CustomResourceDefinitionVersion) bool {
				return v.Name == "v1beta2"
			})
		})
		if err != nil {
			t.Fatalf("removing v1beta2 from %s: %v", l.crd, err)
		}
		testcluster.Eventually(t, time.Minute, l.crd+" without v1beta2", func() (bool, error) {
			_, err := env.Dynamic.Resource(l.resource).Namespace(ns).List(ctx, metav1.ListOptions{})
			return apierrors.IsNotFound(err), nil
		})
		v1 := l.resource
		v1.Version = "v1"
		got, err := env.Dynamic.Resource(v1).Namespace(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s stored at v1beta2 after the migration: %v", l.kind, err)
		}
		if spec, _, _ := unstructured.NestedMap(got.Object, "spec"); len(spec) < len(l.spec) {
			t.Errorf("%s lost its spec: %v", l.kind, spec)
		}
	}

	_, errOut, err = runFlux(t, "", "migrate")
	if err != nil || !strings.Contains(errOut, "no custom resources found that require migration") {
		t.Errorf("second run: want nothing to migrate, got %v\n%s", err, errOut)
	}
}

func assertStoredVersions(t *testing.T, crds apiextensions.Interface, name string, want []string) {
	t.Helper()
	crd, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(crd.Status.StoredVersions)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s storedVersions: want %v, got %v", name, want, crd.Status.StoredVersions)
	}
}
