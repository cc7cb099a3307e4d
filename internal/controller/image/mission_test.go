package image_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// TestMissionExample04 applies the ImageRepository and ImagePolicy of the
// mission's example 04 as written (v1beta2, secretRef ghcr-pull-secret),
// with only the image's host moved to a local HTTPS registry behind basic
// auth: with 1.2.3 and 2.0.0 in the registry the policy picks 1.2.3;
// after 1.3.0 is pushed and the repository asked to scan (what a registry
// webhook Receiver does) it picks 1.3.0, never 2.0.0.
func TestMissionExample04(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{TLS: true, CA: publicCA, Auth: ocitest.BasicAuth})
	pushTags(t, reg, "my-org/payments-api", "1.2.3", "2.0.0")
	ns := env.Namespace(t)
	secret(t, ns, "ghcr-pull-secret", map[string][]byte{".dockerconfigjson": reg.DockerConfigJSON()})

	objs := exampleObjects(t, "../../../config/testdata/mission-examples/04-image-automation-payments.yaml", "ImageRepository", "ImagePolicy")
	for _, o := range objs {
		o.SetNamespace(ns)
		if o.GetKind() == imagev1.ImageRepositoryKind {
			image, _, _ := unstructured.NestedString(o.Object, "spec", "image")
			if err := unstructured.SetNestedField(o.Object, strings.Replace(image, "ghcr.io", reg.Host, 1), "spec", "image"); err != nil {
				t.Fatal(err)
			}
		}
		if err := kube.Create(context.Background(), o); err != nil {
			t.Fatalf("create %s: %v", o.GetKind(), err)
		}
	}
	repo := &imagev1.ImageRepository{}
	repo.Namespace, repo.Name = ns, "payments-api"
	pol := &imagev1.ImagePolicy{}
	pol.Namespace, pol.Name = ns, "payments-api"
	waitScanned(t, repo, 2)
	waitLatest(t, pol, "1.2.3")

	pushTags(t, reg, "my-org/payments-api", "1.3.0")
	controllertest.RequestReconcile(t, kube, repo, "webhook")
	got := waitLatest(t, pol, "1.3.0")
	if got.Status.LatestRef.Name != reg.Host+"/my-org/payments-api" {
		t.Errorf("latestRef %+v", got.Status.LatestRef)
	}
	if p := got.Status.ObservedPreviousRef; p == nil || p.Tag != "1.2.3" {
		t.Errorf("observedPreviousRef %+v", p)
	}
}

// TestMissionExample10 applies example 10's ImageRepository and
// ImagePolicy as written but for the image's host: '>=1.0.0' picks the
// highest release among v-prefixed tags, by version (v1.10.0 over v1.9.0),
// skipping a prerelease, an older release and a tag that is no version.
func TestMissionExample10(t *testing.T) {
	reg := ocitest.Start(t, ocitest.Options{TLS: true, CA: publicCA})
	pushTags(t, reg, "myorg/myapp", "v0.9.0", "v1.0.0", "v1.9.0", "v1.10.0", "v2.1.0-rc.1", "latest")
	ns := env.Namespace(t)
	for _, o := range exampleObjects(t, "../../../config/testdata/mission-examples/10-event-driven-objects.yaml", "ImageRepository", "ImagePolicy") {
		o.SetNamespace(ns)
		if o.GetKind() == imagev1.ImageRepositoryKind {
			if err := unstructured.SetNestedField(o.Object, reg.Host+"/myorg/myapp", "spec", "image"); err != nil {
				t.Fatal(err)
			}
		}
		if err := kube.Create(context.Background(), o); err != nil {
			t.Fatalf("create %s: %v", o.GetKind(), err)
		}
	}
	pol := &imagev1.ImagePolicy{}
	pol.Namespace, pol.Name = ns, "myapp"
	waitLatest(t, pol, "v1.10.0")
}

// exampleObjects reads the objects of the given kinds from a YAML file.
func exampleObjects(t *testing.T, path string, kinds ...string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		o := &unstructured.Unstructured{Object: m}
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	if len(out) != len(kinds) {
		t.Fatalf("%s: found %d of the kinds %v", path, len(out), kinds)
	}
	return out
}
