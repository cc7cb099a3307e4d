package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// W5's chart and its repository.
const (
	w5Chart        = "w5-app"
	w5ChartVersion = "1.0.0"
	// w5Repository is the HelmRepository every release's chart comes from.
	w5Repository = "bench"
	// w5OCIBase is where the chart is pushed on the registry, as `helm push
	// w5-app-1.0.0.tgz oci://HOST/bench/charts` would.
	w5OCIBase = "bench/charts"
	// w5Concurrent is W5's --concurrent unless -concurrent is given: Flux's
	// helm-controller default, which its published run used.
	w5Concurrent = 10
	// w5VersionMark stands for the fleet version while W1's files become
	// the chart's templates: no other text of w1Files holds it.
	w5VersionMark = 987654321
)

// W5 sources: a HelmRepository of type oci (the default, Flux's run) or an
// HTTP repository serving an index.
const (
	w5SourceOCI  = "oci"
	w5SourceHTTP = "http"
)

func helmReleasesGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
}

func hrName(i int) string { return fmt.Sprintf("hr-%04d", i) }

// w5ChartOf is W5's chart: W1's four objects (ServiceAccount, Service,
// Deployment, Ingress) as templates, named by the value index, every
// object annotated with the value version and the Deployment's image
// tagged with it, replicas from replicaCount (0: no pods run). The
// templates are W1's files with the post-build variables turned into
// values, so both workloads apply the same objects.
func w5ChartOf() *helmtest.Chart {
	c := helmtest.NewChart(w5Chart, w5ChartVersion).
		Description("The W5 benchmark's chart: W1's four objects").
		AppVersion(w5ChartVersion).
		Values("index: 0\nversion: 1\nreplicaCount: 0\n")
	files := w1Files(w5VersionMark)
	values := strings.NewReplacer(
		"${INDEX}", "{{ .Values.index }}",
		"${PODS:=0}", "{{ .Values.replicaCount }}",
		strconv.Itoa(w5VersionMark), "{{ .Values.version }}",
	)
	for _, name := range []string{"serviceaccount.yaml", "service.yaml", "deployment.yaml", "ingress.yaml"} {
		c.Template(name, values.Replace(files[w1Path+"/"+name]))
	}
	return c
}

// w5Values are HelmRelease i's values at fleet version v.
func w5Values(i, v int) map[string]any {
	return map[string]any{"index": int64(i), "version": int64(v), "replicaCount": int64(0)}
}

// helmRelease is W5's HelmRelease i as Flux's benchmark writes them: its
// own target namespace, which is also its storage namespace, the chart at
// version `*` with a 600m interval, a 60m interval, CRDs created on
// install and replaced on upgrade (install.crds Create, upgrade.crds
// CreateReplace, as Flux's run sets them), drift detection on.
func helmRelease(i, v int) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2",
		"kind":       "HelmRelease",
		"metadata":   map[string]any{"name": hrName(i), "namespace": fleetNamespace},
		"spec": map[string]any{
			"interval":         "60m",
			"targetNamespace":  targetNamespace(i),
			"storageNamespace": targetNamespace(i),
			"chart": map[string]any{"spec": map[string]any{
				"chart":     w5Chart,
				"version":   "*",
				"interval":  "600m",
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": w5Repository},
			}},
			"install":        map[string]any{"crds": "Create"},
			"upgrade":        map[string]any{"crds": "CreateReplace"},
			"driftDetection": map[string]any{"mode": "enabled"},
			"values":         w5Values(i, v),
		},
	}}
}

// releasedAt says a HelmRelease is Ready, done with its current spec, and
// its newest release is Helm revision version.
func releasedAt(version int64) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		if s, _, _ := condition(o, "Ready"); s != "True" || !observedCurrent(o) {
			return false
		}
		if s, _, _ := condition(o, "Reconciling"); s == "True" {
			return false
		}
		history, _, _ := unstructured.NestedSlice(o.Object, "status", "history")
		if len(history) == 0 {
			return false
		}
		newest, _ := history[0].(map[string]any)
		got, _, _ := unstructured.NestedInt64(newest, "version")
		return got == version
	}
}

// runW5 is Flux's Helm benchmark: one chart in a repository (an OCI
// registry by default, -w5-source http for an index over HTTP) and n
// HelmReleases of it, each generating its HelmChart. Two phases: "install",
// from creating the HelmReleases to all of them Ready at Helm revision 1,
// then "upgrade", from changing a value of every HelmRelease (every object
// changes) to all of them Ready at revision 2. After each phase the Helm
// storage is read as `helm list -A` reads it: n releases deployed at that
// revision.
func (c config) runW5(ctx context.Context, n int, source string) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("W5-%s-n%d", source, n), nil)
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	chart := w5ChartOf()
	repo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "HelmRepository",
		"metadata":   map[string]any{"name": w5Repository, "namespace": fleetNamespace},
	}}
	switch source {
	case w5SourceOCI:
		reg, err := ocitest.New(ocitest.Options{})
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		defer reg.Close()
		digest, err := pushChartOCI(ctx, reg.Host, w5OCIBase, chart)
		if err != nil {
			return nil, err
		}
		c.logf("W5 N=%d: pushed %s/%s/%s:%s@%s", n, reg.Host, w5OCIBase, w5Chart, w5ChartVersion, digest)
		repo.Object["spec"] = map[string]any{"type": "oci", "interval": "600m", "url": "oci://" + reg.Host + "/" + w5OCIBase, "insecure": true}
	case w5SourceHTTP:
		url, stop, err := serveW5Repository(chart)
		if err != nil {
			return nil, err
		}
		defer stop()
		c.logf("W5 N=%d: serving %s %s at %s", n, w5Chart, w5ChartVersion, url)
		repo.Object["spec"] = map[string]any{"interval": "600m", "url": url}
	default:
		return nil, fmt.Errorf("W5: unknown source %q", source)
	}

	if err := e.createNamespace(ctx, fleetNamespace); err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, n); err != nil {
		return nil, err
	}
	if c.crds > 0 {
		c.logf("W5 N=%d: creating %d CRDs", n, c.crds)
		if err := e.createCRDs(ctx, c.crds); err != nil {
			return nil, err
		}
	}
	if err := e.startControllers(ctx); err != nil {
		return nil, err
	}
	if err := e.createAll(ctx, []*unstructured.Unstructured{repo}); err != nil {
		return nil, err
	}
	if source == w5SourceHTTP {
		// A repository of type oci is static (no artifact, as in Flux); an
		// HTTP one fetches its index first, outside the measured phases.
		repos, err := newTracker(ctx, e.cluster.dynamic, helmRepositoriesGVR(), fleetNamespace)
		if err != nil {
			return nil, err
		}
		err = repos.waitAll(ctx, keysOf([]*unstructured.Unstructured{repo}), readyWithArtifact, 2*time.Minute)
		repos.close()
		if err != nil {
			return nil, fmt.Errorf("HelmRepository: %w", err)
		}
	}
	var hrs []*unstructured.Unstructured
	for i := range n {
		hrs = append(hrs, helmRelease(i, 1))
	}
	keys := keysOf(hrs)
	releases, err := newTracker(ctx, e.cluster.dynamic, helmReleasesGVR(), fleetNamespace)
	if err != nil {
		return nil, err
	}
	defer releases.close()
	base := row{Workload: w5Workload(c.crds), N: n, Kustomizations: n, Objects: n * w1Objects}

	c.logf("W5 N=%d: install", n)
	install := base
	install.Phase = "install"
	install, err = measure(ctx, e.subject(), install, func() error {
		if err := e.createAll(ctx, hrs); err != nil {
			return err
		}
		return releases.waitAll(ctx, keys, releasedAt(1), c.timeout)
	})
	if err != nil {
		return nil, err
	}
	if err := checkHelmStorage(ctx, e.cluster.kube, n, 1); err != nil {
		return nil, err
	}
	rows = append(rows, install)

	c.logf("W5 N=%d: upgrade", n)
	upgrade := base
	upgrade.Phase = "upgrade"
	upgrade, err = measure(ctx, e.subject(), upgrade, func() error {
		if err := parallel(ctx, 20, n, func(i int) error { return setFleetVersion(ctx, e, i, 2) }); err != nil {
			return err
		}
		return releases.waitAll(ctx, keys, releasedAt(2), c.timeout)
	})
	if err != nil {
		return rows, err
	}
	if err := checkHelmStorage(ctx, e.cluster.kube, n, 2); err != nil {
		return rows, err
	}
	return append(rows, upgrade), nil
}

// setFleetVersion changes HelmRelease i's value version to v, which
// changes every object of its release.
func setFleetVersion(ctx context.Context, e *env, i, v int) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"values": map[string]any{"version": v}}})
	if err != nil {
		return err
	}
	_, err = e.cluster.dynamic.Resource(helmReleasesGVR()).Namespace(fleetNamespace).Patch(ctx, hrName(i), "application/merge-patch+json", patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("set the value version of HelmRelease %s/%s: %w", fleetNamespace, hrName(i), err)
	}
	return nil
}

// checkHelmStorage reads the Helm storage as `helm list -A` does (release
// Secrets labelled owner=helm, status=deployed) and checks that each of
// the n target namespaces holds one deployed release at revision version.
func checkHelmStorage(ctx context.Context, kube kubernetes.Interface, n, version int) error {
	list, err := kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,status=deployed"})
	if err != nil {
		return fmt.Errorf("list the Helm release records: %w", err)
	}
	deployed := map[string]string{}
	for _, s := range list.Items {
		deployed[s.Namespace] = s.Labels["version"]
	}
	var wrong []string
	for i := range n {
		ns := targetNamespace(i)
		if got := deployed[ns]; got != strconv.Itoa(version) {
			wrong = append(wrong, fmt.Sprintf("%s: deployed revision %q", ns, got))
		}
	}
	if len(wrong) > 0 {
		if len(wrong) > 10 {
			wrong = append(wrong[:10], fmt.Sprintf("and %d more", len(wrong)-10))
		}
		return fmt.Errorf("Helm storage: want %d releases deployed at revision %d: %s", n, version, strings.Join(wrong, "; "))
	}
	return nil
}

// pushChartOCI pushes chart to host/base/<name>:<version> as `helm push`
// lays a chart out: a config that is Chart.yaml as JSON, one layer the
// packaged chart, with Helm's media types. It returns the manifest's
// digest. The registry is plain HTTP on loopback.
func pushChartOCI(ctx context.Context, host, base string, chart *helmtest.Chart) (string, error) {
	archive, err := chart.Package()
	if err != nil {
		return "", fmt.Errorf("package %s: %w", chart.Filename(), err)
	}
	md := chart.Metadata()
	config, err := json.Marshal(md)
	if err != nil {
		return "", err
	}
	repo, err := name.NewRepository(host+"/"+base+"/"+md.Name, name.Insecure)
	if err != nil {
		return "", err
	}
	layers := []v1.Layer{static.NewLayer(config, helmtest.ConfigMediaType), static.NewLayer(archive, helmtest.ChartLayerMediaType)}
	descs := make([]v1.Descriptor, 0, len(layers))
	for _, l := range layers {
		if err := remote.WriteLayer(repo, l, remote.WithContext(ctx)); err != nil {
			return "", fmt.Errorf("push %s to %s: %w", chart.Filename(), repo, err)
		}
		d, err := l.Digest()
		if err != nil {
			return "", err
		}
		size, err := l.Size()
		if err != nil {
			return "", err
		}
		mt, err := l.MediaType()
		if err != nil {
			return "", err
		}
		descs = append(descs, v1.Descriptor{MediaType: mt, Digest: d, Size: size})
	}
	manifest, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        descs[0],
		Layers:        descs[1:],
		Annotations: map[string]string{
			"org.opencontainers.image.title":   md.Name,
			"org.opencontainers.image.version": md.Version,
		},
	})
	if err != nil {
		return "", err
	}
	tag := repo.Tag(helmtest.OCITag(md.Version))
	if err := remote.Put(tag, manifestBytes{raw: manifest}, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push the manifest of %s to %s: %w", chart.Filename(), tag, err)
	}
	sum := sha256.Sum256(manifest)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// manifestBytes is a manifest pushed as written.
type manifestBytes struct{ raw []byte }

func (m manifestBytes) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m manifestBytes) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// serveW5Repository serves an HTTP chart repository on loopback holding
// chart: an index.yaml of its one version and the archive. It returns the
// repository URL and the function that stops the server.
func serveW5Repository(chart *helmtest.Chart) (url string, stop func(), err error) {
	archive, err := chart.Package()
	if err != nil {
		return "", nil, fmt.Errorf("package %s: %w", chart.Filename(), err)
	}
	sum := sha256.Sum256(archive)
	index := fmt.Sprintf(`apiVersion: v1
generated: "2026-01-01T00:00:00Z"
entries:
  %[1]s:
  - apiVersion: v2
    name: %[1]s
    version: %[2]s
    appVersion: "%[2]s"
    type: application
    description: "The W5 benchmark's chart"
    created: "2026-01-01T00:00:00Z"
    digest: %[3]s
    urls:
    - %[4]s
`, chart.Name(), chart.Version(), hex.EncodeToString(sum[:]), chart.Filename())
	return serveRepository([]byte(index), map[string][]byte{"/" + chart.Filename(): archive})
}

// w5Workload names W5's rows: with -crds, the number of CRDs the cluster
// held.
func w5Workload(crds int) string {
	if crds > 0 {
		return fmt.Sprintf("W5+%dCRDs", crds)
	}
	return "W5"
}

func crdsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
}

// benchCRDs are n CustomResourceDefinitions, each of its own API group
// (as operators add them: every group is one more discovery document the
// controller's RESTMapper has to hold).
func benchCRDs(n int) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i := range n {
		objs, err := decodeObjects(helmtest.CRDManifest(fmt.Sprintf("crd%04d.bench.driftless.io", i), fmt.Sprintf("Bench%04d", i)))
		if err != nil {
			return nil, fmt.Errorf("CRD %d: %w", i, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// createCRDs creates benchCRDs(n) and waits until every one is
// Established, before the controller starts.
func (e *env) createCRDs(ctx context.Context, n int) error {
	crds, err := benchCRDs(n)
	if err != nil {
		return err
	}
	t, err := newTracker(ctx, e.cluster.dynamic, crdsGVR(), "")
	if err != nil {
		return err
	}
	defer t.close()
	if err := e.createAll(ctx, crds); err != nil {
		return err
	}
	established := func(o *unstructured.Unstructured) bool {
		s, _, _ := condition(o, "Established")
		return s == "True"
	}
	if err := t.waitAll(ctx, keysOf(crds), established, 5*time.Minute); err != nil {
		return fmt.Errorf("CRDs: %w", err)
	}
	return nil
}
