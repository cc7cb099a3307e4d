package bucket_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The limits of the controller under test: small, so that refusals are
// cheap to provoke.
const (
	maxFiles = 600
	maxSize  = 4 << 20
)

var (
	env        *testcluster.Cluster
	kube       client.Client
	storageDir string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the real source and kustomize controllers, as
// driftless-controller wires them, against the test cluster.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	return controllertest.StartControllers(c, []manager.Controller{source.Controller(), kustomize.New(kustomize.DefaultOptions())}, func(o *manager.Options) {
		o.Storage.MaxSize, o.Storage.MaxFiles = maxSize, maxFiles
		storageDir = o.Storage.Path
	})
}

// create makes a Bucket named name, polled hourly unless said.
func create(t *testing.T, ns, name string, spec sourcev1.BucketSpec) *sourcev1.Bucket {
	t.Helper()
	if spec.Interval.Duration == 0 {
		spec.Interval = metav1.Duration{Duration: time.Hour}
	}
	obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create Bucket: %v", err)
	}
	return obj
}

func secret(t *testing.T, ns, name string, data map[string][]byte) *meta.LocalObjectReference {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	if err := kube.Create(context.Background(), s); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create secret: %v", err)
	}
	return &meta.LocalObjectReference{Name: name}
}

// get reads the object as it is now.
func get(t *testing.T, obj *sourcev1.Bucket) *sourcev1.Bucket {
	t.Helper()
	got := &sourcev1.Bucket{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// waitRevision waits for Ready=True with the artifact at revision.
func waitRevision(t *testing.T, obj *sourcev1.Bucket, revision string) *sourcev1.Bucket {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "revision "+revision, func(o *sourcev1.Bucket) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Revision == revision
	})
	return controllertest.WaitReady(t, kube, obj)
}

// waitCondition waits for condition t with status and reason, and returns
// the object then.
func waitCondition(t *testing.T, obj *sourcev1.Bucket, ct string, status metav1.ConditionStatus, reason string) *sourcev1.Bucket {
	t.Helper()
	return controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), ct+"="+string(status)+" "+reason, func(o *sourcev1.Bucket) bool {
		c := condition(o, ct)
		return c != nil && c.Status == status && c.Reason == reason
	})
}

func condition(obj *sourcev1.Bucket, t string) *metav1.Condition {
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == t {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

// requestReconcile asks for a reconcile now, as `flux reconcile` does.
func requestReconcile(t *testing.T, obj *sourcev1.Bucket) string {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	got := get(t, obj)
	patch := client.MergeFrom(got.DeepCopy())
	if got.Annotations == nil {
		got.Annotations = map[string]string{}
	}
	got.Annotations[meta.ReconcileRequestAnnotation] = token
	if err := kube.Patch(context.Background(), got, patch); err != nil {
		t.Fatal(err)
	}
	return token
}
