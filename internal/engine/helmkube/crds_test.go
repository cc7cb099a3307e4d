package helmkube_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

var crdsGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func crdTestGroup(t *testing.T, ns string) string {
	group := ns + ".helmkube.driftless.test"
	t.Cleanup(func() {
		for _, p := range []string{"things", "others"} {
			_ = env.Dynamic.Resource(crdsGVR).Delete(context.Background(), p+"."+group, metav1.DeleteOptions{})
		}
	})
	return group
}

// TestApplyCRDs: Create creates once and then leaves the CRD; CreateReplace
// replaces it (labelled, still served), keeping what another writer put in
// the live object's finalizers; the kube client then knows the kind.
func TestApplyCRDs(t *testing.T) {
	ns := env.Namespace(t)
	group := crdTestGroup(t, ns)
	target := newTarget(t, env.Config)
	cfg := actionConfig(t, target, ns)
	ctx := context.Background()
	files := []helmkube.CRDFile{{Filename: "demo/crds/thing.yaml", Data: []byte(helmtest.CRDManifest(group, "Thing"))}}
	opts := helmkube.CRDOptions{Policy: helmkube.CRDsCreate, Labels: map[string]string{"origin": "test"}, Timeout: timeout}

	changes, err := target.ApplyCRDs(ctx, cfg, files, opts)
	if err != nil || len(changes) != 1 || changes[0].Action != "created" || changes[0].Name != "things."+group {
		t.Fatalf("first Create: %+v %v", changes, err)
	}
	if changes, err = target.ApplyCRDs(ctx, cfg, files, opts); err != nil || changes[0].Action != "unchanged" {
		t.Fatalf("second Create: %+v %v", changes, err)
	}

	// Another writer's finalizer on the live CRD survives the replacement.
	api := env.Dynamic.Resource(crdsGVR)
	live, err := api.Get(ctx, "things."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.SetFinalizers(append(live.GetFinalizers(), "example.com/keep"))
	if _, err := api.Update(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if u, err := api.Get(context.Background(), "things."+group, metav1.GetOptions{}); err == nil {
			u.SetFinalizers(nil)
			_, _ = api.Update(context.Background(), u, metav1.UpdateOptions{})
		}
	})
	opts.Policy, opts.Labels = helmkube.CRDsCreateReplace, map[string]string{"origin": "replaced"}
	if changes, err = target.ApplyCRDs(ctx, cfg, files, opts); err != nil || changes[0].Action != "replaced" {
		t.Fatalf("CreateReplace: %+v %v", changes, err)
	}
	now, err := api.Get(ctx, "things."+group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if now.GetLabels()["origin"] != "replaced" || !strings.Contains(strings.Join(now.GetFinalizers(), ","), "example.com/keep") {
		t.Errorf("replaced CRD labels %v finalizers %v", now.GetLabels(), now.GetFinalizers())
	}
	// The same replacement again writes nothing.
	if changes, err = target.ApplyCRDs(ctx, cfg, files, opts); err != nil || changes[0].Action != "unchanged" {
		t.Errorf("CreateReplace of the same CRD: %+v %v", changes, err)
	}
	// The configuration's kube client builds objects of the new kind.
	thing := "apiVersion: " + group + "/v1\nkind: Thing\nmetadata:\n  name: one\n  namespace: " + ns + "\n"
	if res, err := cfg.KubeClient.Build(strings.NewReader(thing), false); err != nil || len(res) != 1 {
		t.Errorf("building a Thing after ApplyCRDs: %v", err)
	}
}

// TestApplyCRDsBadInput: what is not a CRD, twice the same CRD and broken
// YAML are refused naming the file, before anything is written.
func TestApplyCRDsBadInput(t *testing.T) {
	ns := env.Namespace(t)
	group := crdTestGroup(t, ns)
	target := newTarget(t, env.Config)
	cfg := actionConfig(t, target, ns)
	good := helmtest.CRDManifest(group, "Thing")
	for name, tc := range map[string]struct {
		files []helmkube.CRDFile
		want  string
	}{
		"not a CRD": {[]helmkube.CRDFile{{Filename: "demo/crds/mixed.yaml",
			Data: []byte(good + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky\n")}},
			`demo/crds/mixed.yaml: document 2 is a ConfigMap "sneaky", not an apiextensions.k8s.io/v1 CustomResourceDefinition`},
		"twice": {[]helmkube.CRDFile{{Filename: "demo/crds/a.yaml", Data: []byte(good)}, {Filename: "demo/crds/b.yaml", Data: []byte(good)}},
			"demo/crds/b.yaml: CRD things." + group + " is also defined in demo/crds/a.yaml"},
		"broken YAML": {[]helmkube.CRDFile{{Filename: "demo/crds/broken.yaml", Data: []byte(good + "---\nkind: [\n")}},
			"demo/crds/broken.yaml: document 2 is not valid YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := target.ApplyCRDs(context.Background(), cfg, tc.files, helmkube.CRDOptions{Policy: helmkube.CRDsCreateReplace, Timeout: timeout})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if _, err := env.Dynamic.Resource(crdsGVR).Get(context.Background(), "things."+group, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the CRD was written: %v", err)
			}
		})
	}
}
