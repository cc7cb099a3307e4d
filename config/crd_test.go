// Package config_test checks the generated CRDs against a real API server:
// every Flux kind is served at Flux's group and version with Flux's short
// names, the mission's manifests are accepted as written, and bad input is
// refused with the API server's own message.
package config_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var env *testcluster.Cluster

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}, &env) }

// servedKinds is Flux v2.9's table of served kinds (flux-api.md §1.2), plus
// the legacy versions Driftless keeps serving.
var servedKinds = []struct {
	groupVersion, kind string
	shortNames         []string
	category           string
}{
	{"source.toolkit.fluxcd.io/v1", "GitRepository", []string{"gitrepo"}, "fluxcd-sources"},
	{"source.toolkit.fluxcd.io/v1", "OCIRepository", []string{"ocirepo"}, "fluxcd-sources"},
	{"source.toolkit.fluxcd.io/v1", "HelmRepository", []string{"helmrepo"}, "fluxcd-sources"},
	{"source.toolkit.fluxcd.io/v1", "HelmChart", []string{"hc"}, "fluxcd-sources"},
	{"source.toolkit.fluxcd.io/v1", "Bucket", nil, "fluxcd-sources"},
	{"source.toolkit.fluxcd.io/v1", "ExternalArtifact", []string{"ea"}, "fluxcd-sources"},
	{"kustomize.toolkit.fluxcd.io/v1", "Kustomization", []string{"ks"}, "fluxcd-appliers"},
	{"helm.toolkit.fluxcd.io/v2", "HelmRelease", []string{"hr"}, "fluxcd-appliers"},
	{"notification.toolkit.fluxcd.io/v1", "Receiver", nil, "fluxcd-notifications"},
	{"notification.toolkit.fluxcd.io/v1beta3", "Alert", nil, "fluxcd-notifications"},
	{"notification.toolkit.fluxcd.io/v1beta3", "Provider", nil, "fluxcd-notifications"},
	{"image.toolkit.fluxcd.io/v1", "ImageRepository", []string{"imgrepo", "imagerepo"}, "fluxcd-images"},
	{"image.toolkit.fluxcd.io/v1", "ImagePolicy", []string{"imgpol", "imagepol"}, "fluxcd-images"},
	{"image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", []string{"iua", "imgupd", "imgauto"}, "fluxcd-images"},
	{"source.extensions.fluxcd.io/v1beta1", "ArtifactGenerator", []string{"ag"}, "fluxcd-sources"},
	// Legacy versions the mission's manifests use.
	{"source.toolkit.fluxcd.io/v1beta2", "OCIRepository", []string{"ocirepo"}, "fluxcd-sources"},
	{"image.toolkit.fluxcd.io/v1beta2", "ImageRepository", []string{"imgrepo", "imagerepo"}, "fluxcd-images"},
	{"image.toolkit.fluxcd.io/v1beta2", "ImagePolicy", []string{"imgpol", "imagepol"}, "fluxcd-images"},
	{"image.toolkit.fluxcd.io/v1beta2", "ImageUpdateAutomation", []string{"iua", "imgupd", "imgauto"}, "fluxcd-images"},
}

func TestAPIResourcesServeEveryFluxKind(t *testing.T) {
	disco := env.Kube.Discovery()
	for _, want := range servedKinds {
		list, err := disco.ServerResourcesForGroupVersion(want.groupVersion)
		if err != nil {
			t.Errorf("%s not served: %v", want.groupVersion, err)
			continue
		}
		var found *metav1.APIResource
		for i := range list.APIResources {
			if list.APIResources[i].Kind == want.kind && !strings.Contains(list.APIResources[i].Name, "/") {
				found = &list.APIResources[i]
			}
		}
		if found == nil {
			t.Errorf("%s %s not served", want.groupVersion, want.kind)
			continue
		}
		if got, exp := sorted(found.ShortNames), sorted(want.shortNames); strings.Join(got, ",") != strings.Join(exp, ",") {
			t.Errorf("%s %s short names = %v, want %v", want.groupVersion, want.kind, got, exp)
		}
		for _, c := range []string{"all", "fluxcd", want.category} {
			if !contains(found.Categories, c) {
				t.Errorf("%s %s categories %v lack %q", want.groupVersion, want.kind, found.Categories, c)
			}
		}
		if !found.Namespaced {
			t.Errorf("%s %s should be namespaced", want.groupVersion, want.kind)
		}
	}
}

// TestMissionExamplesAreAccepted creates every object of the mission's
// examples as written, with strict field validation: the committed copy
// always, and the live ../shared copy too when it sits beside the repository.
func TestMissionExamplesAreAccepted(t *testing.T) {
	dirs := []string{filepath.Join("testdata", "mission-examples")}
	shared := filepath.Join("..", "..", "shared", "mission", "examples")
	if _, err := os.Stat(shared); err == nil {
		dirs = append(dirs, shared)
		checkCopyIsCurrent(t, dirs[0], shared)
	} else {
		t.Logf("%s is not beside the repository; checking the committed copy only", shared)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Kube.Discovery()))
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no examples in %s (%v)", dir, err)
		}
		for _, file := range files {
			t.Run(filepath.Base(dir)+"/"+filepath.Base(file), func(t *testing.T) {
				ns := env.Namespace(t)
				objs := readObjects(t, file)
				if len(objs) == 0 {
					t.Fatalf("%s holds no objects", file)
				}
				for _, obj := range objs {
					if err := create(mapper, ns, obj); err != nil {
						t.Errorf("%s %s/%s refused: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
					}
				}
			})
		}
	}
}

// checkCopyIsCurrent fails when the committed examples drift from shared/.
func checkCopyIsCurrent(t *testing.T, copyDir, sharedDir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*.yaml"))
	for _, f := range files {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(copyDir, filepath.Base(f)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: copy the examples again", filepath.Join(copyDir, filepath.Base(f)), f)
		}
	}
}

// create makes obj in the cluster with strict field validation. Objects
// without a namespace go to ns; a namespace an example names is created first
// unless the example itself creates it.
func create(mapper meta.RESTMapper, ns string, obj *unstructured.Unstructured) error {
	ctx := context.Background()
	gvk := obj.GroupVersionKind()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("map %s: %w", gvk, err)
	}
	opts := metav1.CreateOptions{FieldValidation: "Strict"}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		_, err = env.Dynamic.Resource(mapping.Resource).Create(ctx, obj, opts)
		if apierrors.IsAlreadyExists(err) {
			return nil // an example's namespace made earlier in this test run
		}
		return err
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(ns)
	} else if err := ensureNamespace(ctx, obj.GetNamespace()); err != nil {
		return err
	}
	_, err = env.Dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace()).Create(ctx, obj, opts)
	if apierrors.IsAlreadyExists(err) {
		// The same example from the other copy: replace it so it is validated again.
		err = env.Dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		if err == nil {
			_, err = env.Dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace()).Create(ctx, obj, opts)
		}
	}
	return err
}

func ensureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := env.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// readObjects decodes every YAML document of file into an object.
func readObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

func sorted(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func gvr(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

// TestEveryCRDOptsOutOfSubstitution: a Kustomization that applies the CRDs
// (as flux bootstrap does) must not run post-build substitution inside their
// schemas, so each carries Flux's opt-out annotation and its component label.
func TestEveryCRDOptsOutOfSubstitution(t *testing.T) {
	list, err := env.Dynamic.Resource(gvr("apiextensions.k8s.io", "v1", "customresourcedefinitions")).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, crd := range list.Items {
		if !strings.HasSuffix(crd.GetName(), ".fluxcd.io") {
			continue
		}
		seen++
		if v := crd.GetAnnotations()["kustomize.toolkit.fluxcd.io/substitute"]; v != "disabled" {
			t.Errorf("CRD %s: kustomize.toolkit.fluxcd.io/substitute = %q, want disabled", crd.GetName(), v)
		}
		if crd.GetLabels()["app.kubernetes.io/component"] == "" || crd.GetLabels()["app.kubernetes.io/part-of"] != "flux" {
			t.Errorf("CRD %s: labels %v lack Flux's component and part-of", crd.GetName(), crd.GetLabels())
		}
	}
	if want := len(servedKindsByCRD()); seen != want {
		t.Errorf("%d Flux CRDs installed, want %d", seen, want)
	}
}

// servedKindsByCRD groups servedKinds by CRD: a legacy version shares the
// CRD of its storage version.
func servedKindsByCRD() map[string]bool {
	crds := map[string]bool{}
	for _, k := range servedKinds {
		group := strings.Split(k.groupVersion, "/")[0]
		crds[group+"/"+k.kind] = true
	}
	return crds
}
