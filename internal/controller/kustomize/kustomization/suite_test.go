package kustomization_test

import (
	"context"
	"errors"
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
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env  *testcluster.Cluster
	kube client.Client
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// shardLabel selects the objects of the lockdown shard; the main
// controllers leave them alone, as Flux's sharding does.
const shardLabel = "sharding.fluxcd.io/key"

// startControllers runs the source and kustomize controllers as
// driftless-controller wires them: the main ones, and a "lockdown" shard
// with the multi-tenancy flags.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	controllers := func() []manager.Controller {
		return []manager.Controller{source.Controller(), kustomizeController()}
	}
	stopMain, err := controllertest.StartControllers(c, controllers(), func(o *manager.Options) { o.WatchLabelSelector = "!" + shardLabel })
	if err != nil {
		return nil, err
	}
	stopShard, err := controllertest.StartControllers(c, controllers(), func(o *manager.Options) {
		o.WatchLabelSelector = shardLabel + "=lockdown"
		o.NoCrossNamespaceRefs = true
		o.DefaultServiceAccount = "tenant-reconciler"
	})
	if err != nil {
		stopMain()
		return nil, err
	}
	return func() { stopShard(); stopMain() }, nil
}

// kustomizeController is the kustomize group with the flags' defaults, but
// artifact downloads retried twice only, so a refused one fails fast, and
// the test producer of ExternalArtifacts in --artifact-servers.
func kustomizeController() manager.Controller {
	o := kustomize.DefaultOptions()
	o.HTTPRetry = 2
	o.ArtifactServers = []string{producer.URL}
	return kustomize.New(o)
}

// applyYAML creates every object of a multi-document YAML, in namespace ns
// when an object names none.
func applyYAML(t *testing.T, ns, manifests string) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetNamespace() == "" && u.GetKind() != "Namespace" {
			u.SetNamespace(ns)
		}
		if err := kube.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// gitSource serves repo and creates a GitRepository for its main branch.
func gitSource(t *testing.T, ns, name string, repo *gittest.Repo) {
	t.Helper()
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func getKS(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	k := &kustomizev1.Kustomization{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
		t.Fatal(err)
	}
	return k
}

// ksNamed and repoNamed name an object for the kit's helpers, which read only
// its kind, namespace and name.
func ksNamed(ns, name string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func repoNamed(ns, name string) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func waitKS(t *testing.T, ns, name, what string, cond func(*kustomizev1.Kustomization) bool) *kustomizev1.Kustomization {
	t.Helper()
	return controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: name}, what, cond)
}

// waitReady waits for Ready=True at the current generation; waitFailed for
// Ready=False with the reason. Both check kstatus.
func waitReady(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	return controllertest.WaitReady(t, kube, ksNamed(ns, name))
}

func waitFailed(t *testing.T, ns, name, reason string) *kustomizev1.Kustomization {
	t.Helper()
	return controllertest.WaitNotReady(t, kube, ksNamed(ns, name), reason)
}

func namespace(t *testing.T, name string) {
	t.Helper()
	err := kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
