package helmrelease_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// ttlJob is a Job <release>-<name> the TTL controller deletes as soon as it
// finishes; annotations make it a hook.
func ttlJob(name, annotations string) string {
	return `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-` + name + `
  namespace: {{ .Release.Namespace }}
  annotations:
    job: ` + name + annotations + `
spec:
  ttlSecondsAfterFinished: 0
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: ` + name + `
        image: busybox
`
}

// job-ttl: a post-install hook Job and a Job of the release, both removed
// by their ttlSecondsAfterFinished once done: the install, which waits for
// Jobs, succeeds all the same.
func TestJobTTL(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("jobs", "1.0.0").
		Template("job.yaml", ttlJob("work", "")).
		Template("hook.yaml", ttlJob("hook", "\n    helm.sh/hook: post-install,post-upgrade")))
	hr := release(t, ns, "ttl", "jobs", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 0}}
	})
	got := controllertest.WaitReady(t, kube, hr)
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.InstallSucceededReason || got.Status.InstallFailures != 0 {
		t.Errorf("Released = %+v, install failures %d", c, got.Status.InstallFailures)
	}
	// The Jobs ran and the TTL controller removed them.
	for _, name := range []string{"ttl-work", "ttl-hook"} {
		err := testcluster.Poll(time30s, func() (bool, error) {
			_, err := env.Kube.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Errorf("Job %s was not removed by its TTL: %v", name, err)
		}
	}
	if list := helmList(t, ns); len(list) != 1 || list[0]["status"] != "deployed" {
		t.Errorf("helm list %v", list)
	}
}
