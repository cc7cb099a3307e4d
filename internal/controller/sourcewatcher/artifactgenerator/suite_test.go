package artifactgenerator_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/controller/helm"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/controller/sourcewatcher"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env        *testcluster.Cluster
	kube       client.Client
	storageDir string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the source, source-watcher, kustomize and helm
// groups in one process, as driftless-controller does, under the multi-tenancy
// lockdown (every test keeps its objects in one namespace).
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	return controllertest.StartControllers(c, []manager.Controller{source.Controller(), sourcewatcher.Controller(), kustomize.Controller(), helm.Controller()}, func(o *manager.Options) {
		o.NoCrossNamespaceRefs = true
		storageDir = o.Storage.Path
	})
}

// gitSource serves a new repository holding files on main and makes a
// GitRepository of it in ns; it returns the repository to commit to.
func gitSource(t *testing.T, ns, name string, files map[string]string) (*gittest.Repo, *sourcev1.GitRepository) {
	t.Helper()
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", files, "initial")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	gr := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{
			URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		},
	}
	if err := kube.Create(context.Background(), gr); err != nil {
		t.Fatal(err)
	}
	return repo, controllertest.WaitReady(t, kube, gr)
}

// newGenerator creates an ArtifactGenerator.
func newGenerator(t *testing.T, ns, name string, spec swv1.ArtifactGeneratorSpec) *swv1.ArtifactGenerator {
	t.Helper()
	ag := &swv1.ArtifactGenerator{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), ag); err != nil {
		t.Fatal(err)
	}
	return ag
}

// git is a spec.sources entry for a GitRepository.
func git(alias, name string) swv1.SourceReference {
	return swv1.SourceReference{Alias: alias, Kind: swv1.GitRepositoryKind, Name: name}
}

// output is a spec.artifacts entry copying from to to.
func output(name string, copies ...string) swv1.OutputArtifact {
	o := swv1.OutputArtifact{Name: name}
	for i := 0; i+1 < len(copies); i += 2 {
		o.Copy = append(o.Copy, swv1.CopyOperation{From: copies[i], To: copies[i+1]})
	}
	return o
}

// externalArtifact reads an ExternalArtifact; nil when there is none.
func externalArtifact(t *testing.T, ns, name string) *sourcev1.ExternalArtifact {
	t.Helper()
	ea := &sourcev1.ExternalArtifact{}
	err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ea)
	if client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	if err != nil {
		return nil
	}
	return ea
}

// waitArtifact waits for the ExternalArtifact ns/name to hold an artifact
// that cond accepts.
func waitArtifact(t *testing.T, ns, name, what string, cond func(*sourcev1.ExternalArtifact) bool) *sourcev1.ExternalArtifact {
	t.Helper()
	return controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: name}, what, func(ea *sourcev1.ExternalArtifact) bool {
		return ea.Status.Artifact != nil && cond(ea)
	})
}

// waitGone waits for the ExternalArtifact ns/name to be deleted.
func waitGone(t *testing.T, ns, name string) {
	t.Helper()
	testcluster.Eventually(t, controllertest.Timeout, "ExternalArtifact "+ns+"/"+name+" deleted", func() (bool, error) {
		return externalArtifact(t, ns, name) == nil, nil
	})
}

// waitStalled waits for Stalled=True with reason and returns the generator.
func waitReason(t *testing.T, ag *swv1.ArtifactGenerator, condition, reason string) *swv1.ArtifactGenerator {
	t.Helper()
	return controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(ag), condition+" "+reason, func(o *swv1.ArtifactGenerator) bool {
		for _, c := range o.Status.Conditions {
			if c.Type == condition && c.Reason == reason && (c.Status == metav1.ConditionTrue) == (condition != meta.ReadyCondition) {
				return true
			}
		}
		return false
	})
}

func message(o *swv1.ArtifactGenerator, condition string) string {
	for _, c := range o.Status.Conditions {
		if c.Type == condition {
			return c.Message
		}
	}
	return ""
}
