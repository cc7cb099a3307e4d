package ocirepository_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// configMapFiles is an artifact with one ConfigMap in namespace ns.
func configMapFiles(ns, name, version string) map[string]string {
	return map[string]string{"deploy/config.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
data:
  version: %q
`, name, ns, version), "README.md": "not a manifest, left out by kustomize"}
}

// kustomization applies path of the OCIRepository source.
func kustomization(t *testing.T, ns, name, source, path string) *kustomizev1.Kustomization {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Interval:  metav1.Duration{Duration: time.Hour},
			Path:      path,
			Prune:     true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: source},
		},
	}
	if err := kube.Create(context.Background(), ks); err != nil {
		t.Fatalf("create Kustomization: %v", err)
	}
	return ks
}

func configMapVersion(t *testing.T, ns, name string) string {
	t.Helper()
	var cm corev1.ConfigMap
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		t.Fatalf("ConfigMap %s/%s: %v", ns, name, err)
	}
	return cm.Data["version"]
}

// TestKustomizationAppliesOCIArtifacts: a Kustomization applies an
// OCIRepository's artifact, extracted or copied (.tgz), records the origin
// revision of the manifest annotation in lastAppliedOriginRevision and its
// events' originRevision metadata, as Flux's kustomize-controller does.
func TestKustomizationAppliesOCIArtifacts(t *testing.T) {
	reg := newRegistry(t, regOptions{})
	ns := env.Namespace(t)
	const origin = "main@sha1:0123456789abcdef0123456789abcdef01234567"
	for _, op := range []string{sourcev1.OCILayerExtract, sourcev1.OCILayerCopy} {
		t.Run(op, func(t *testing.T) {
			d := reg.pushFiles(t, "manifests", op, configMapFiles(ns, "config-"+op, "v1"),
				map[string]string{"org.opencontainers.image.revision": origin, "org.opencontainers.image.source": "https://example.com/app.git"})
			src := create(t, ns, "src-"+op, sourcev1.OCIRepositorySpec{URL: reg.url("manifests"), Insecure: true,
				Reference: &sourcev1.OCIRepositoryRef{Tag: op}, LayerSelector: &sourcev1.OCILayerSelector{Operation: op}})
			a := waitRevision(t, src, op+"@"+d).Status.Artifact
			if op == sourcev1.OCILayerCopy && !strings.HasSuffix(a.Path, ".tgz") {
				t.Errorf("copy stored %s", a.Path)
			}
			ks := controllertest.WaitReady(t, kube, kustomization(t, ns, "ks-"+op, src.Name, "./deploy"))
			if ks.Status.LastAppliedRevision != op+"@"+d || ks.Status.LastAppliedOriginRevision != origin {
				t.Errorf("lastAppliedRevision %q, lastAppliedOriginRevision %q", ks.Status.LastAppliedRevision, ks.Status.LastAppliedOriginRevision)
			}
			if v := configMapVersion(t, ns, "config-"+op); v != "v1" {
				t.Errorf("applied version %q", v)
			}
			testcluster.Eventually(t, 30*time.Second, "an event with originRevision", func() (bool, error) {
				for _, e := range controllertest.Events(t, env.Kube, ks) {
					if e.Annotations[kustomizev1.OriginRevisionEventKey] == origin && e.Annotations[kustomizev1.RevisionEventKey] == op+"@"+d {
						return true, nil
					}
				}
				return false, nil
			})
		})
	}
}

// TestMissionExample runs the OCIRepository of the mission's
// examples/01-sources.yaml (v1beta2, a semver range, cosign) as written but
// for its url, against a registry its system roots trust, with releases
// 0.9.0 1.0.0 1.2.0 2.0.0 signed: 1.2.0 is resolved, verified and applied
// by a Kustomization; an unsigned 1.3.0 is refused while 1.2.0 stays served.
func TestMissionExample(t *testing.T) {
	reg := realRegistry(t, publicCA)
	key := newKey(t)
	const ns = "flux-system"
	if err := kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	digests := map[string]string{}
	for _, v := range []string{"0.9.0", "1.0.0", "1.2.0", "2.0.0"} {
		digests[v] = reg.pushFiles(t, "my-org/payments-bundle", v, configMapFiles(ns, "payments-bundle", v),
			map[string]string{"org.opencontainers.image.revision": v + "@sha1:" + strings.Repeat("b", 40)})
		reg.sign(t, "my-org/payments-bundle", digests[v], key, "bundle")
	}
	secret(t, ns, "cosign-pub-key", map[string][]byte{"cosign.pub": publicPEM(t, key)})

	example := missionOCIRepository(t)
	if example.GetAPIVersion() != "source.toolkit.fluxcd.io/v1beta2" {
		t.Fatalf("the example is %s", example.GetAPIVersion())
	}
	if err := unstructured.SetNestedField(example.Object, reg.url("my-org/payments-bundle"), "spec", "url"); err != nil {
		t.Fatal(err)
	}
	if err := kube.Create(context.Background(), example); err != nil {
		t.Fatalf("create the example: %v", err)
	}
	obj := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: example.GetName()}}
	got := waitRevision(t, obj, "1.2.0@"+digests["1.2.0"])
	if c := condition(got, sourcev1.SourceVerifiedCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("SourceVerified %+v", c)
	}
	served120 := got.Status.Artifact
	ks := controllertest.WaitReady(t, kube, kustomization(t, ns, "payments-bundle", obj.Name, "./deploy"))
	if v := configMapVersion(t, ns, "payments-bundle"); v != "1.2.0" || ks.Status.LastAppliedOriginRevision != "1.2.0@sha1:"+strings.Repeat("b", 40) {
		t.Errorf("applied %q, origin %q", v, ks.Status.LastAppliedOriginRevision)
	}

	d130 := reg.pushFiles(t, "my-org/payments-bundle", "1.3.0", configMapFiles(ns, "payments-bundle", "1.3.0"), nil)
	controllertest.RequestReconcile(t, kube, obj, "unsigned-1.3.0")
	got = refusedVerification(t, obj, served120, "1.3.0@"+d130, "no cosign signature found")
	controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, sourcev1.VerificationErrorReason, "1.3.0@"+d130)
	if v := configMapVersion(t, ns, "payments-bundle"); v != "1.2.0" {
		t.Errorf("the unsigned release was applied: %q", v)
	}
	ks = controllertest.WaitReady(t, kube, ks)
	if ks.Status.LastAppliedRevision != served120.Revision {
		t.Errorf("Kustomization at %s", ks.Status.LastAppliedRevision)
	}
	if !reconcile.IsTrue(ks, meta.ReadyCondition) {
		t.Errorf("Kustomization:\n%s", controllertest.Describe(ks))
	}
}

// missionOCIRepository is the OCIRepository of the mission's sources example.
func missionOCIRepository(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	example := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/01-sources.yaml")
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(example)), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if u := (&unstructured.Unstructured{Object: m}); u.GetKind() == sourcev1.OCIRepositoryKind {
			return u
		}
	}
	t.Fatal("no OCIRepository in the sources example")
	return nil
}
