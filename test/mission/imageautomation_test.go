// Package mission runs the mission's examples together, each controller
// group in one manager as driftless-controller runs them: what a user sees
// when the pieces meet, rather than one controller at a time.
package mission

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/image"
	"github.com/driftless/driftless/internal/controller/imageautomation"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/testca"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env  *testcluster.Cluster
	kube client.Client
	// publicCA stands for the public CAs ghcr.io is trusted by: the
	// process's system roots are this CA alone, so example 04 runs
	// unchanged but for the image's host.
	publicCA *testca.CA
)

func TestMain(m *testing.M) {
	roots, err := trustPublicCA()
	if err != nil {
		panic(err)
	}
	defer os.Remove(roots)
	testcluster.Main(m, testcluster.Options{Setup: start}, &env)
}

// trustPublicCA makes publicCA the process's system roots (SSL_CERT_FILE,
// read once by crypto/x509, before any TLS connection).
func trustPublicCA() (string, error) {
	publicCA = testca.New("public test CA")
	f, err := os.CreateTemp("", "mission-roots-*.pem")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(publicCA.CertPEM); err != nil {
		return "", err
	}
	return f.Name(), os.Setenv("SSL_CERT_FILE", f.Name())
}

// start runs the source, kustomize and both image groups in one manager.
func start(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	images, err := os.MkdirTemp("", "mission-images-")
	if err != nil {
		return nil, err
	}
	reflector := image.DefaultReflectorOptions()
	reflector.StoragePath = images
	stop, err := controllertest.StartControllers(c, []manager.Controller{
		source.Controller(), kustomize.Controller(), image.NewReflector(reflector), imageautomation.Controller(),
	}, nil)
	if err != nil {
		os.RemoveAll(images)
		return nil, err
	}
	return func() { stop(); os.RemoveAll(images) }, nil
}

// TestMissionImageAutomation runs examples 01 (the GitRepository
// payments-config, on the project's Git server behind basic auth), 02 (the
// payments Kustomization), 04 (image automation, v1beta2, the image on a
// local registry behind basic auth) and 05's marker, as written but for the
// hosts: with 1.2.3 and 2.0.0 in the registry, pushing 1.3.0 ends with the
// policy at 1.3.0 (never 2.0.0), one commit on main by fluxcdbot with 04's
// template, only the marker's value changed, payments-config at that
// commit and the Deployment payments-api running 1.3.0.
func TestMissionImageAutomation(t *testing.T) {
	ctx := context.Background()
	const ns = "flux-system"
	if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	reg := ocitest.Start(t, ocitest.Options{TLS: true, CA: publicCA, Auth: ocitest.BasicAuth})
	pushTags(t, reg, "my-org/payments-api", "1.2.3", "2.0.0")
	imageName := reg.Host + "/my-org/payments-api"

	repo := gittest.NewRepo(t)
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
spec:
  selector:
    matchLabels:
      app: payments-api
  template:
    metadata:
      labels:
        app: payments-api
    spec:
      containers:
        - name: api
          image: ` + imageName + `:1.2.3 # {"$imagepolicy": "flux-system:payments-api"}
`
	first := repo.CommitFiles("main", map[string]string{
		"apps/payments/base/kustomization.yaml":                "resources:\n  - deployment.yaml\n  - worker.yaml\n",
		"apps/payments/base/deployment.yaml":                   deployment,
		"apps/payments/base/worker.yaml":                       "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments-worker\n  labels: {region: \"${region}\"}\nspec:\n  selector: {matchLabels: {app: payments-worker}}\n  template:\n    metadata: {labels: {app: payments-worker}}\n    spec:\n      containers: [{name: worker, image: " + imageName + ":1.2.3}]\n",
		"apps/payments/overlays/production/kustomization.yaml": "resources:\n  - ../../base\n",
		"README.md": "payments config\n",
	}, "payments: base and production overlay")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "git", Password: "push-t0ken"})

	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "github-deploy-key", Namespace: ns}, StringData: map[string]string{"username": "git", "password": "push-t0ken"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "ghcr-pull-secret", Namespace: ns}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON()}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sops-age-key", Namespace: ns},
			Data: map[string][]byte{"age.agekey": testcluster.ReadRepoFile(t, "internal/engine/sops/testdata/keys/age.agekey")}},
	} {
		if err := kube.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := kube.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cluster-vars", Namespace: ns},
		Data: map[string]string{"env": "production"}}); err != nil {
		t.Fatal(err)
	}
	if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	for _, o := range example(t, "01-sources.yaml", "GitRepository") {
		if err := unstructured.SetNestedField(o.Object, srv.RepoURL(repo.Name()), "spec", "url"); err != nil {
			t.Fatal(err)
		}
		create(t, o)
	}
	for _, o := range example(t, "02-kustomization-payments.yaml", "Kustomization") {
		create(t, o)
	}
	for _, o := range example(t, "04-image-automation-payments.yaml", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation") {
		if o.GetKind() == imagev1.ImageRepositoryKind {
			if err := unstructured.SetNestedField(o.Object, imageName, "spec", "image"); err != nil {
				t.Fatal(err)
			}
		}
		create(t, o)
	}

	// Before the new tag: the policy on 1.2.3, the release applied, no commit.
	policy := client.ObjectKey{Namespace: ns, Name: "payments-api"}
	controllertest.WaitFor(t, kube, policy, "the policy at 1.2.3", func(p *imagev1.ImagePolicy) bool {
		return p.Status.LatestRef != nil && p.Status.LatestRef.Tag == "1.2.3"
	})
	waitImage(t, imageName+":1.2.3")

	// CI pushes 1.3.0; a registry webhook asks the repository to scan.
	pushTags(t, reg, "my-org/payments-api", "1.3.0")
	controllertest.RequestReconcile(t, kube, &imagev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payments-api"}}, "webhook")
	controllertest.WaitFor(t, kube, policy, "the policy at 1.3.0", func(p *imagev1.ImagePolicy) bool {
		return p.Status.LatestRef != nil && p.Status.LatestRef.Tag == "1.3.0"
	})
	auto := controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: "payments-config"}, "a pushed commit",
		func(a *imagev1.ImageUpdateAutomation) bool { return a.Status.LastPushCommit != "" })
	head := repo.Head("main")
	if auto.Status.LastPushCommit != head {
		t.Errorf("lastPushCommit %s, main is at %s", auto.Status.LastPushCommit, head)
	}

	// One commit, by fluxcdbot, with 04's template, changing the marker's value only.
	if parent := git(t, repo.Dir(), "rev-parse", head+"^"); parent != first {
		t.Errorf("the automation's commit's parent is %s, want the first commit %s (one commit)", parent, first)
	}
	if author := git(t, repo.Dir(), "log", "-1", "--format=%an <%ae>", head); author != "fluxcdbot <fluxcdbot@my-org.com>" {
		t.Errorf("author %q", author)
	}
	msg := git(t, repo.Dir(), "log", "-1", "--format=%B", head)
	if !strings.HasPrefix(msg, "Update images") || !strings.Contains(msg, "- "+imageName+": 1.3.0") {
		t.Errorf("commit message is not 04's template rendered:\n%s", msg)
	}
	if files := git(t, repo.Dir(), "diff", "--name-only", first, head); files != "apps/payments/base/deployment.yaml" {
		t.Errorf("the commit changed %q; want only the marked file", files)
	}
	want := strings.Replace(deployment, ":1.2.3 #", ":1.3.0 #", 1)
	if got := git(t, repo.Dir(), "show", head+":apps/payments/base/deployment.yaml"); got+"\n" != want {
		t.Errorf("the marked file is now:\n%s\nwant:\n%s", got, want)
	}

	// payments-config at the commit, and the Deployment on 1.3.0.
	controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: "payments-config"}, "payments-config at the pushed commit",
		func(g *sourcev1.GitRepository) bool {
			return g.Status.Artifact != nil && g.Status.Artifact.Revision == "main@sha1:"+head
		})
	waitImage(t, imageName+":1.3.0")
	ks := controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: "payments-app"}, "payments-app at the pushed commit",
		func(k *kustomizev1.Kustomization) bool { return k.Status.LastAppliedRevision == "main@sha1:"+head })
	controllertest.AssertKStatus(t, ks)
}

// waitImage waits until the Deployment payments-api in payments runs image.
func waitImage(t *testing.T, image string) {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: "payments", Name: "payments-api"}, "payments-api on "+image,
		func(d *appsv1.Deployment) bool {
			c := d.Spec.Template.Spec.Containers
			return len(c) == 1 && c[0].Image == image
		})
}

// example returns the objects of the given kinds from a mission example,
// as written.
func example(t *testing.T, file string, kinds ...string) []*unstructured.Unstructured {
	t.Helper()
	data := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/"+file)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
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
		t.Fatalf("%s: found %d objects of the kinds %v", file, len(out), kinds)
	}
	return out
}

func create(t *testing.T, o client.Object) {
	t.Helper()
	if err := kube.Create(context.Background(), o); err != nil {
		t.Fatalf("create %s %s: %v", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
	}
}

// pushTags pushes one small image to the registry under every tag.
func pushTags(t *testing.T, reg *ocitest.Registry, repository string, tags ...string) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password}),
		remote.WithTransport(&http.Transport{TLSClientConfig: reg.TLSConfig()})}
	for _, tag := range tags {
		ref, err := name.ParseReference(reg.Ref(repository) + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, opts...); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+filepath.Dir(dir))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}
