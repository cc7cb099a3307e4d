package image_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/controller/image"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/testca"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// shardLabel selects the objects of a shard (the lockdown one, or the
// controllers a restart test starts and stops itself); the main
// controllers leave them alone, as Flux's sharding does.
const shardLabel = "sharding.fluxcd.io/key"

var (
	env  *testcluster.Cluster
	kube client.Client
	// storagePath is the --image-storage-path of the main controllers.
	storagePath string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the image-reflector group as driftless-controller
// wires it: the main controllers, whose dependency requeue is an hour so
// that only the watch can clear a DependencyNotReady in time, and whose
// tag store has no memory cache so that a deleted tag file is seen at once
// (as it is in production once the cache let go of it); and a "lockdown"
// shard with --no-cross-namespace-refs and the default cache.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	roots, err := trustPublicCA()
	if err != nil {
		return nil, err
	}
	dirs, err := tempDirs(2)
	if err != nil {
		return nil, err
	}
	storagePath = dirs[0]
	stopMain, err := startReflectorWith(c, image.ReflectorOptions{StoragePath: dirs[0]}, func(o *manager.Options) {
		o.WatchLabelSelector = "!" + shardLabel
		o.RequeueDependency = time.Hour
	})
	if err != nil {
		return nil, err
	}
	stopShard, err := startReflector(c, dirs[1], func(o *manager.Options) {
		o.WatchLabelSelector = shardLabel + "=lockdown"
		o.NoCrossNamespaceRefs = true
	})
	if err != nil {
		stopMain()
		return nil, err
	}
	return func() {
		stopShard()
		stopMain()
		for _, d := range dirs {
			os.RemoveAll(d)
		}
		os.Remove(roots)
	}, nil
}

// publicCA stands for the public CAs a registry such as ghcr.io is trusted
// by: the controllers' system roots are this CA alone, so an example
// written for a public registry runs unchanged but for its host.
var publicCA *testca.CA

// trustPublicCA makes publicCA the process's system roots (SSL_CERT_FILE,
// read once by crypto/x509, before any TLS connection) and returns the
// file to remove.
func trustPublicCA() (string, error) {
	publicCA = testca.New("public test CA")
	f, err := os.CreateTemp("", "image-roots-*.pem")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(publicCA.CertPEM); err != nil {
		return "", err
	}
	return f.Name(), os.Setenv("SSL_CERT_FILE", f.Name())
}

func tempDirs(n int) ([]string, error) {
	var dirs []string
	for range n {
		d, err := os.MkdirTemp("", "driftless-images-")
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// startReflector runs the image-reflector group with its tag store in dir.
func startReflector(c *testcluster.Cluster, dir string, customize func(*manager.Options)) (func(), error) {
	o := image.DefaultReflectorOptions()
	o.StoragePath = dir
	return startReflectorWith(c, o, customize)
}

func startReflectorWith(c *testcluster.Cluster, o image.ReflectorOptions, customize func(*manager.Options)) (func(), error) {
	return controllertest.StartControllers(c, []manager.Controller{image.NewReflector(o)}, customize)
}

// pushTags writes one small random image to repo and tags it with every
// tag; it returns the image's digest.
func pushTags(t *testing.T, reg *ocitest.Registry, repo string, tags ...string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithAuth(authn.Anonymous)}
	if reg.Username != "" {
		opts = []remote.Option{remote.WithAuth(&authn.Basic{Username: reg.Username, Password: reg.Password})}
	}
	if tc := reg.TLSConfig(); tc != nil {
		opts = append(opts, remote.WithTransport(&http.Transport{TLSClientConfig: tc}))
	}
	ref, err := name.ParseReference(reg.Ref(repo)+":"+tags[0], name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	// Tags are one manifest PUT each: eight at a time.
	rest := make(chan string)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var err error
			for tag := range rest {
				if err == nil {
					if e := remote.Tag(ref.Context().Tag(tag), img, opts...); e != nil {
						err = fmt.Errorf("tag %s: %w", tag, e)
					}
				}
			}
			errs <- err
		}()
	}
	for _, tag := range tags[1:] {
		rest <- tag
	}
	close(rest)
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// tagListRequests counts the tag list requests the registry served for repo.
func tagListRequests(t *testing.T, reg *ocitest.Registry, repo string) int {
	t.Helper()
	reqs, err := reg.Requests()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r.URI, "/v2/"+repo+"/tags/list") {
			n++
		}
	}
	return n
}

// createRepo makes an ImageRepository scanning image hourly unless the
// spec says otherwise.
func createRepo(t *testing.T, ns, name string, spec imagev1.ImageRepositorySpec, labels ...string) *imagev1.ImageRepository {
	t.Helper()
	if spec.Interval.Duration == 0 {
		spec.Interval = metav1.Duration{Duration: time.Hour}
	}
	obj := &imagev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labelMap(labels)}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create ImageRepository: %v", err)
	}
	return obj
}

// createPolicy makes an ImagePolicy.
func createPolicy(t *testing.T, ns, name string, spec imagev1.ImagePolicySpec, labels ...string) *imagev1.ImagePolicy {
	t.Helper()
	obj := &imagev1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labelMap(labels)}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create ImagePolicy: %v", err)
	}
	return obj
}

// labelMap reads "key=value" pairs.
func labelMap(pairs []string) map[string]string {
	if len(pairs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return m
}

func secret(t *testing.T, ns, name string, data map[string][]byte) *meta.LocalObjectReference {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	if err := kube.Create(context.Background(), s); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create secret: %v", err)
	}
	return &meta.LocalObjectReference{Name: name}
}

// waitScanned waits for Ready=True with a scan of want tags.
func waitScanned(t *testing.T, obj *imagev1.ImageRepository, want int) *imagev1.ImageRepository {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "a scan of the tags", func(o *imagev1.ImageRepository) bool {
		return o.Status.LastScanResult != nil && o.Status.LastScanResult.TagCount == want
	})
	return controllertest.WaitReady(t, kube, obj)
}

// waitLatest waits for the policy's latestRef to name tag, Ready.
func waitLatest(t *testing.T, obj *imagev1.ImagePolicy, tag string) *imagev1.ImagePolicy {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "latest tag "+tag, func(o *imagev1.ImagePolicy) bool {
		return o.Status.LatestRef != nil && o.Status.LatestRef.Tag == tag && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	return controllertest.WaitReady(t, kube, obj)
}

func ready(obj meta.Conditioned) *metav1.Condition { return reconcile.Get(obj, meta.ReadyCondition) }

// tagDir is where the store of dir keeps the tags of namespace/name.
func tagDir(dir, namespace, name string) string {
	return filepath.Join(dir, "imagerepository", namespace, name)
}

// waitGone waits until the object is deleted (its finalizer done).
func waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	deadline := time.Now().Add(controllertest.Timeout)
	for {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there after %s (last error %v)", obj.GetName(), controllertest.Timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func metaName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// waitRequests waits until the registry has served n tag list requests
// for repo.
func waitRequests(t *testing.T, reg *ocitest.Registry, repo string, n int) {
	t.Helper()
	deadline := time.Now().Add(controllertest.Timeout)
	for got := tagListRequests(t, reg, repo); got < n; got = tagListRequests(t, reg, repo) {
		if time.Now().After(deadline) {
			t.Fatalf("the registry served %d tag list requests for %s, want %d", got, repo, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitStored waits until the tag store has a tag file in dir.
func waitStored(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(controllertest.Timeout)
	for {
		entries, err := os.ReadDir(dir)
		if err == nil && len(entries) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tags stored in %s: %v", dir, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func metaNS(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
