package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
)

// TestDeploymentAvailableEndsWaitAtOnce: the wait ends on the very version
// of the Deployment that is ready, as soon as the watch delivers it. An
// independent watch records when each version arrives; the wait must end on
// the first ready one (not an earlier one, not a later one).
func TestDeploymentAvailableEndsWaitAtOnce(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checker, _, _ := newChecker(t, nil)

	type arrival struct {
		at  time.Time
		obj *unstructured.Unstructured
	}
	watcher, err := env.Dynamic.Resource(deploymentsGVR).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web"})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	arrivals := make(chan arrival, 256)
	go func() {
		for ev := range watcher.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok {
				select {
				case arrivals <- arrival{time.Now(), u}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	ref := createDeployment(t, ns, deployment("web", 2, nil))
	report, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{Timeout: 60 * time.Second})
	returned := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	got := report.Objects[0]
	if got.Status != health.Current {
		t.Fatalf("report: %v", got)
	}

	var first *arrival
	for first == nil {
		select {
		case a := <-arrivals:
			if health.Status(a.obj).Status == health.Current {
				first = &a
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the independent watch never saw the Deployment ready")
		}
	}
	if got.ResourceVersion != first.obj.GetResourceVersion() {
		t.Errorf("the wait ended on resourceVersion %s; the first ready version is %s", got.ResourceVersion, first.obj.GetResourceVersion())
	}
	var available time.Time
	for _, c := range conditions(first.obj) {
		if c["type"] == "Available" {
			ts, _ := c["lastTransitionTime"].(string)
			available, _ = time.Parse(time.RFC3339, ts)
		}
	}
	if available.IsZero() {
		t.Fatalf("no Available transition time on the ready Deployment")
	}
	sinceWatch, sinceAvailable := returned.Sub(first.at), returned.Sub(available)
	t.Logf("wait returned %v after an independent watch received the ready Deployment, %v after its Available "+
		"condition's lastTransitionTime (which has one-second granularity); total wait %v",
		sinceWatch, sinceAvailable, report.Duration)
	if sinceAvailable > 2*time.Second {
		t.Errorf("wait returned %v after the Deployment became Available, want well under 2s", sinceAvailable)
	}
}

func conditions(obj *unstructured.Unstructured) []map[string]any {
	list, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	var out []map[string]any
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// TestNeverReadyDeploymentTimesOut: pods that cannot be scheduled keep the
// Deployment InProgress; the timeout error names it with its status.
func TestNeverReadyDeploymentTimesOut(t *testing.T) {
	ns := env.Namespace(t)
	checker, _, _ := newChecker(t, nil)
	ref := createDeployment(t, ns, deployment("stuck", 1, unschedulable))

	report, err := checker.Wait(context.Background(), []health.ObjectRef{ref}, health.WaitOptions{Timeout: 3 * time.Second})
	var timeout *health.TimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("err = %v, want *TimeoutError", err)
	}
	mustContain(t, err, "timeout waiting for: [Deployment/"+ns+"/stuck status: 'InProgress': Available: 0/1]")
	if len(timeout.NotReady) != 1 || timeout.NotReady[0].Ref.Name != "stuck" {
		t.Errorf("NotReady = %v", timeout.NotReady)
	}
	if report.Duration < 3*time.Second {
		t.Errorf("returned after %v, before the 3s timeout", report.Duration)
	}
	if r := health.Reason(err); r != meta.HealthCheckFailedReason {
		t.Errorf("Reason = %s", r)
	}
}

// TestProgressDeadlineFailsFast: a Deployment past its progress deadline is
// Failed, which ends the wait long before its timeout.
func TestProgressDeadlineFailsFast(t *testing.T) {
	ns := env.Namespace(t)
	checker, _, _ := newChecker(t, nil)
	d := deployment("late", 1, unschedulable)
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](1)
	ref := createDeployment(t, ns, d)

	report, err := checker.Wait(context.Background(), []health.ObjectRef{ref}, health.WaitOptions{Timeout: 2 * time.Minute})
	var failed *health.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want *FailedError", err)
	}
	mustContain(t, err, "failed early due to stalled resources: [Deployment/"+ns+"/late status: 'Failed': Progress deadline exceeded: ")
	t.Logf("failed after %v: %v", report.Duration, err)
}

// TestFailedJobFailsFast: a Job past its active deadline is Failed; the wait
// ends at once naming only it, while the other object is still in progress.
// With fail-fast disabled the wait runs to its timeout and lists both.
func TestFailedJobFailsFast(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	checker, _, _ := newChecker(t, nil)
	doomed := job("doomed", func(j *batchv1.Job) {
		j.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
		j.Spec.Template.Spec.NodeSelector = unschedulable
	})
	if _, err := env.Kube.BatchV1().Jobs(ns).Create(ctx, doomed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stuck := createDeployment(t, ns, deployment("stuck", 1, unschedulable))
	refs := []health.ObjectRef{jobRef(ns, "doomed"), stuck}

	report, err := checker.Wait(ctx, refs, health.WaitOptions{Timeout: 2 * time.Minute})
	var failed *health.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want *FailedError", err)
	}
	mustContain(t, err, "failed early due to stalled resources: [Job/"+ns+"/doomed status: 'Failed': Job failed: DeadlineExceeded")
	if len(failed.Failed) != 1 {
		t.Errorf("Failed = %v, want only the Job", failed.Failed)
	}
	if s := report.Objects[1]; s.Status != health.InProgress {
		t.Errorf("Deployment in the report: %v, want InProgress", s)
	}

	_, err = checker.Wait(ctx, refs, health.WaitOptions{Timeout: 2 * time.Second, DisableFailFast: true})
	var timeout *health.TimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("without fail-fast: err = %v, want *TimeoutError", err)
	}
	mustContain(t, err, "Job/"+ns+"/doomed status: 'Failed'", "Deployment/"+ns+"/stuck status: 'InProgress'")
}

// TestNewRevisionCancelsWait: cancelling the context (as a new source
// revision does) ends the wait with an error that says so.
func TestNewRevisionCancelsWait(t *testing.T) {
	ns := env.Namespace(t)
	checker, _, _ := newChecker(t, nil)
	ref := createDeployment(t, ns, deployment("stuck", 1, unschedulable))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	report, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{
		Timeout: 2 * time.Minute,
		OnChange: func(s health.ObjectStatus) {
			if s.Status == health.InProgress {
				cancel(errors.New("new revision main@sha1:2b3c4d"))
			}
		},
	})
	if !errors.Is(err, health.ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
	mustContain(t, err, "health check canceled: new revision main@sha1:2b3c4d", "Deployment/"+ns+"/stuck status: 'InProgress'")
	if r := health.Reason(err); r != meta.HealthCheckCanceledReason {
		t.Errorf("Reason = %s", r)
	}
	if report.Duration > 30*time.Second {
		t.Errorf("cancellation took %v", report.Duration)
	}

	// A context deadline is a timeout, not a cancellation.
	dctx, dcancel := context.WithTimeout(context.Background(), time.Second)
	defer dcancel()
	_, err = checker.Wait(dctx, []health.ObjectRef{ref}, health.WaitOptions{})
	var timeout *health.TimeoutError
	if !errors.As(err, &timeout) || errors.Is(err, health.ErrCanceled) {
		t.Errorf("deadline: err = %v, want *TimeoutError", err)
	}
}

// TestConcurrentWaitsShareOneInformer: twenty waits on twenty Deployments of
// one namespace share one informer and one watch request, and the informer
// stops when the last wait ends.
func TestConcurrentWaitsShareOneInformer(t *testing.T) {
	const n = 20
	ns := env.Namespace(t)
	ctx := context.Background()
	checker, cache, counter := newChecker(t, nil)
	refs := make([]health.ObjectRef, n)
	for i := range refs {
		refs[i] = createDeployment(t, ns, deployment("web-"+string(rune('a'+i)), 1, unschedulable))
	}
	errs := make(chan error, n)
	for _, ref := range refs {
		go func() {
			_, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{Timeout: 2 * time.Minute})
			errs <- err
		}()
	}
	eventually(t, "every wait subscribed", func() (bool, error) { return cache.Stats().Subscriptions == n, nil })
	if s := cache.Stats(); s.Informers != 1 || s.Started != 1 {
		t.Errorf("while %d waits run: %+v, want one informer", n, s)
	}
	path := "/apis/apps/v1/namespaces/" + ns + "/deployments"
	if c := counter.watches(t, path); c != 1 {
		t.Errorf("%d watch requests on %s, want 1", c, path)
	}

	// Let the pods be scheduled: every Deployment becomes available.
	unpin := []byte(`{"spec":{"template":{"spec":{"nodeSelector":null}}}}`)
	for _, ref := range refs {
		if _, err := env.Kube.AppsV1().Deployments(ns).Patch(ctx, ref.Name, types.MergePatchType, unpin, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(3 * time.Minute):
			t.Fatal("waits did not return")
		}
	}
	if s := cache.Stats(); s.Informers != 0 || s.Subscriptions != 0 || s.Started != 1 {
		t.Errorf("after the waits: %+v, want no informer left and one started in all", s)
	}
	if c := counter.count(path); c != 1 {
		t.Errorf("%d watch requests on %s, want 1", c, path)
	}
}
