package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestJobGoneBeforeTheWait: a Job with ttlSecondsAfterFinished may finish
// and be removed before a wait first lists it. Marked DoneWhenGone (its
// writer knows it has a TTL), it is done; unmarked, it is NotFound, as any
// missing object.
func TestJobGoneBeforeTheWait(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	quick := job("quick", func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](0) })
	created, err := env.Kube.BatchV1().Jobs(ns).Create(ctx, quick, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = testcluster.Poll(time.Minute, func() (bool, error) {
		_, err := env.Kube.BatchV1().Jobs(ns).Get(ctx, "quick", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("the TTL controller did not remove the Job: %v", err)
	}
	ref := jobRef(ns, "quick")
	ref.ResourceVersion = created.ResourceVersion

	t.Run("DoneWhenGone", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		gone := ref
		gone.DoneWhenGone = true
		report, err := checker.Wait(ctx, []health.ObjectRef{gone}, health.WaitOptions{Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if s := report.Objects[0]; s.Status != health.Current || s.Message != "Job not found: removed once finished (ttlSecondsAfterFinished)" {
			t.Errorf("report %v", s)
		}
	})
	t.Run("not marked", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		_, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{Timeout: 3 * time.Second})
		mustContain(t, err, "timeout waiting for: [Job/"+ns+"/quick status: 'NotFound': object not found]")
	})
}

// TestFailedJobRemovedByItsTTLFails: a Job that failed and was removed by
// its TTL while a wait (not failing fast) watched it keeps its failure: the
// deletion event carries it, even marked DoneWhenGone.
func TestFailedJobRemovedByItsTTLFails(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checker, _, _ := newChecker(t, nil)
	doomed := job("doomed", func(j *batchv1.Job) {
		j.Spec.TTLSecondsAfterFinished = ptr.To[int32](0)
		j.Spec.Template.Annotations = map[string]string{testcluster.ExitCodeAnnotation: "3"}
	})
	if _, err := env.Kube.BatchV1().Jobs(ns).Create(ctx, doomed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ref := jobRef(ns, "doomed")
	ref.DoneWhenGone = true
	var seen []string
	_, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{
		Timeout: time.Minute, DisableFailFast: true,
		OnChange: func(s health.ObjectStatus) {
			seen = append(seen, string(s.Status)+": "+s.Message)
			if strings.HasPrefix(s.Message, "Job failed and was deleted") {
				cancel() // the outcome is known; the wait would run to its timeout
			}
		},
	})
	if !errors.Is(err, health.ErrCanceled) {
		t.Fatalf("wait: %v; statuses %v", err, seen)
	}
	mustContain(t, err, "Job/"+ns+"/doomed status: 'Failed': Job failed and was deleted")
}
