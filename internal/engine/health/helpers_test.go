package health_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"

	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	widgetsGVR     = schema.GroupVersionResource{Group: "health.driftless.test", Version: "v1", Resource: "widgets"}
	crdsGVR        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// watchCounter counts the watch requests a client makes, by URL path.
type watchCounter struct {
	mu     sync.Mutex
	byPath map[string]int
}

func (c *watchCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if q := req.URL.Query().Get("watch"); q == "true" || q == "1" {
			c.mu.Lock()
			c.byPath[req.URL.Path]++
			c.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (c *watchCounter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPath[path]
}

// watches waits until the informer on path has sent its watch request (it
// lists first, so a subscriber or even a finished wait can come before it)
// and returns how many were sent.
func (c *watchCounter) watches(t *testing.T, path string) int {
	t.Helper()
	eventually(t, "a watch request on "+path, func() (bool, error) { return c.count(path) > 0, nil })
	return c.count(path)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// newChecker returns a Checker with a Cache of its own, built from cfg (the
// admin config when nil), and the watch requests its client makes.
func newChecker(t *testing.T, cfg *rest.Config) (*health.Checker, *health.Cache, *watchCounter) {
	t.Helper()
	return newCheckerWith(t, cfg, health.CacheOptions{})
}

// newCheckerWith is newChecker with cache options.
func newCheckerWith(t *testing.T, cfg *rest.Config, opts health.CacheOptions) (*health.Checker, *health.Cache, *watchCounter) {
	t.Helper()
	if cfg == nil {
		cfg = env.Config
	}
	cfg = rest.CopyConfig(cfg)
	counter := &watchCounter{byPath: map[string]int{}}
	cfg.Wrap(counter.wrap)
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	cache := health.NewCacheWithOptions(client, logr.Discard(), opts)
	t.Cleanup(func() {
		// Idle shared informers stop IdleTimeout after their last wait.
		eventually(t, "no informer left running after the test", func() (bool, error) {
			s := cache.Stats()
			return s.Informers == 0 && s.Subscriptions == 0, nil
		})
	})
	return health.NewChecker(cache, mapper, health.CheckerOptions{}), cache, counter
}

// unschedulable is a node selector no localcluster node matches: pods stay
// Pending, so a Deployment never becomes available.
var unschedulable = map[string]string{"health.driftless.test/no-such-node": "true"}

func deployment(name string, replicas int32, nodeSelector map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: nodeSelector,
					Containers:   []corev1.Container{{Name: "app", Image: "example.com/app:1.0.0"}},
				},
			},
		},
	}
}

func createDeployment(t *testing.T, ns string, d *appsv1.Deployment) health.ObjectRef {
	t.Helper()
	got, err := env.Kube.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return health.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: got.Name, ResourceVersion: got.ResourceVersion}
}

func job(name string, mutate func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "task", Image: "example.com/task:1.0.0"}},
			}},
		},
	}
	mutate(j)
	return j
}

func jobRef(ns, name string) health.ObjectRef {
	return health.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: ns, Name: name}
}

func widgetRef(ns, name string) health.ObjectRef {
	return health.ObjectRef{Group: "health.driftless.test", Version: "v1", Kind: "Widget", Namespace: ns, Name: name}
}

// installWidgetCRD installs the Widget CRD (namespaced, with a status
// subresource) once per cluster and waits for it with a Checker, which is
// itself a test of the CRD rule.
func installWidgetCRD(t *testing.T) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.health.driftless.test"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "health.driftless.test",
			Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec":   {Type: "object", XPreserveUnknownFields: ptr.To(true)},
						"status": {Type: "object", XPreserveUnknownFields: ptr.To(true)},
					},
				}},
			}},
		},
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.Dynamic.Resource(crdsGVR).Create(context.Background(), &unstructured.Unstructured{Object: content}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	checker, _, _ := newChecker(t, nil)
	ref := health.ObjectRef{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: crd.Name}
	if _, err := checker.Wait(context.Background(), []health.ObjectRef{ref}, health.WaitOptions{Timeout: 30 * time.Second}); err != nil {
		t.Fatalf("Widget CRD: %v", err)
	}
}

// createWidget creates a Widget and, when status is not nil, sets its status.
func createWidget(t *testing.T, ns, name string, finalizers []string, status map[string]any) {
	t.Helper()
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "health.driftless.test/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"size": int64(1)},
	}}
	w.SetFinalizers(finalizers)
	created, err := env.Dynamic.Resource(widgetsGVR).Namespace(ns).Create(context.Background(), w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if status != nil {
		setWidgetStatus(t, created, status)
	}
}

// setWidgetStatus writes a Widget's status as its controller would.
func setWidgetStatus(t testing.TB, w *unstructured.Unstructured, status map[string]any) {
	t.Helper()
	w = w.DeepCopy()
	w.Object["status"] = status
	if _, err := env.Dynamic.Resource(widgetsGVR).Namespace(w.GetNamespace()).UpdateStatus(context.Background(), w, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set status of Widget %s/%s: %v", w.GetNamespace(), w.GetName(), err)
	}
}

func getWidget(t testing.TB, ns, name string) *unstructured.Unstructured {
	t.Helper()
	w, err := env.Dynamic.Resource(widgetsGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func readyCondition(status string) map[string]any {
	return map[string]any{"conditions": []any{map[string]any{
		"type": "Ready", "status": status, "reason": "Test", "message": "Ready is " + status,
		"lastTransitionTime": "2026-01-02T03:04:05Z",
	}}}
}

func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

// eventually is testcluster.Eventually with the default bound of these tests.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	testcluster.Eventually(t, 60*time.Second, what, cond)
}
