package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
)

// TestCustomResources: healthCheckExprs on a custom resource, and the
// kstatus conditions of one without them.
func TestCustomResources(t *testing.T) {
	installWidgetCRD(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	phase := []meta.CustomHealthCheck{{
		APIVersion: "health.driftless.test/v1", Kind: "Widget",
		HealthCheckExpressions: meta.HealthCheckExpressions{Failed: "status.phase == 'Broken'", Current: "status.phase == 'Ready'"},
	}}

	t.Run("CEL current", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		createWidget(t, ns, "fresh", nil, nil)
		var states []health.State
		report, err := checker.Wait(ctx, []health.ObjectRef{widgetRef(ns, "fresh")}, health.WaitOptions{
			Timeout: time.Minute, CustomChecks: phase,
			OnChange: func(s health.ObjectStatus) {
				states = append(states, s.Status)
				if s.Status == health.InProgress {
					setWidgetStatus(t, getWidget(t, ns, "fresh"), map[string]any{"phase": "Ready"})
				}
			},
		})
		if err != nil {
			t.Fatalf("%v (states %v)", err, states)
		}
		if s := report.Objects[0]; s.Message != "healthCheckExprs current expression is true: status.phase == 'Ready'" {
			t.Errorf("report: %v", s)
		}
		if states[len(states)-2] != health.InProgress {
			t.Errorf("states %v: a Widget without status must wait for the expression, not be Current", states)
		}
	})

	t.Run("CEL failed", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		createWidget(t, ns, "broken", nil, map[string]any{"phase": "Broken"})
		_, err := checker.Wait(ctx, []health.ObjectRef{widgetRef(ns, "broken")}, health.WaitOptions{Timeout: time.Minute, CustomChecks: phase})
		mustContain(t, err, "[Widget/"+ns+"/broken status: 'Failed': healthCheckExprs failed expression is true: status.phase == 'Broken']")
	})

	t.Run("invalid CEL is refused before watching", func(t *testing.T) {
		checker, cache, _ := newChecker(t, nil)
		bad := []meta.CustomHealthCheck{{APIVersion: "health.driftless.test/v1", Kind: "Widget",
			HealthCheckExpressions: meta.HealthCheckExpressions{Current: "status.phase = 'Ready'"}}}
		_, err := checker.Wait(ctx, []health.ObjectRef{widgetRef(ns, "broken")}, health.WaitOptions{Timeout: time.Minute, CustomChecks: bad})
		var exprErr *health.ExpressionError
		if !errors.As(err, &exprErr) {
			t.Fatalf("err = %v, want *ExpressionError", err)
		}
		mustContain(t, err, "healthCheckExprs[0]", "current expression", "status.phase = 'Ready'")
		if s := cache.Stats(); s.Started != 0 {
			t.Errorf("informers started for an invalid expression: %+v", s)
		}
	})

	t.Run("kstatus Stalled", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		createWidget(t, ns, "stalled", nil, map[string]any{"conditions": []any{map[string]any{
			"type": "Stalled", "status": "True", "reason": "QuotaExceeded", "message": "quota exceeded for widgets",
			"lastTransitionTime": "2026-01-02T03:04:05Z",
		}}})
		_, err := checker.Wait(ctx, []health.ObjectRef{widgetRef(ns, "stalled")}, health.WaitOptions{Timeout: time.Minute})
		mustContain(t, err, "[Widget/"+ns+"/stalled status: 'Failed': quota exceeded for widgets]")
	})

	t.Run("kstatus Ready", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		createWidget(t, ns, "warming", nil, readyCondition("False"))
		report, err := checker.Wait(ctx, []health.ObjectRef{widgetRef(ns, "warming")}, health.WaitOptions{
			Timeout: time.Minute,
			OnChange: func(s health.ObjectStatus) {
				if s.Status == health.InProgress {
					setWidgetStatus(t, getWidget(t, ns, "warming"), readyCondition("True"))
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := report.Objects[0]; s.Message != "Ready is True" {
			t.Errorf("report: %v", s)
		}
	})
}

// TestObjectDeletedWhileWaiting follows an object through deletion.
func TestObjectDeletedWhileWaiting(t *testing.T) {
	installWidgetCRD(t)
	ns := env.Namespace(t)
	ctx := context.Background()

	t.Run("deleted and created again", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		createWidget(t, ns, "phoenix", []string{"health.driftless.test/hold"}, readyCondition("False"))
		var states []health.State
		_, err := checker.Wait(ctx, []health.ObjectRef{widgetRef(ns, "phoenix")}, health.WaitOptions{
			Timeout: time.Minute,
			OnChange: func(s health.ObjectStatus) {
				if s.Status == health.Unknown {
					return
				}
				states = append(states, s.Status)
				switch s.Status {
				case health.InProgress:
					if err := env.Dynamic.Resource(widgetsGVR).Namespace(ns).Delete(ctx, "phoenix", metav1.DeleteOptions{}); err != nil {
						t.Fatal(err)
					}
				case health.Terminating:
					w := getWidget(t, ns, "phoenix")
					w.SetFinalizers(nil)
					if _, err := env.Dynamic.Resource(widgetsGVR).Namespace(ns).Update(ctx, w, metav1.UpdateOptions{}); err != nil {
						t.Fatal(err)
					}
				case health.NotFound:
					createWidget(t, ns, "phoenix", nil, nil)
				}
			},
		})
		if err != nil {
			t.Fatalf("%v (states %v)", err, states)
		}
		want := []health.State{health.InProgress, health.Terminating, health.NotFound, health.Current}
		if len(states) != len(want) {
			t.Fatalf("states %v, want %v", states, want)
		}
		for i := range want {
			if states[i] != want[i] {
				t.Fatalf("states %v, want %v", states, want)
			}
		}
	})

	t.Run("deleted for good", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		ref := createDeployment(t, ns, deployment("gone", 1, unschedulable))
		deleted := false
		_, err := checker.Wait(ctx, []health.ObjectRef{ref}, health.WaitOptions{
			Timeout: 5 * time.Second,
			OnChange: func(s health.ObjectStatus) {
				// The Deployment may report InProgress more than once (its
				// controller updates the status as it goes): delete it at
				// the first.
				if s.Status == health.InProgress && !deleted {
					deleted = true
					if err := env.Kube.AppsV1().Deployments(ns).Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
						t.Fatal(err)
					}
				}
			},
		})
		mustContain(t, err, "timeout waiting for: [Deployment/"+ns+"/gone status: 'NotFound': object was deleted]")
	})

	t.Run("finished Job removed by its TTL stays Current", func(t *testing.T) {
		checker, _, _ := newChecker(t, nil)
		once := job("once", func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](0) })
		if _, err := env.Kube.BatchV1().Jobs(ns).Create(ctx, once, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		createWidget(t, ns, "blocker", nil, readyCondition("False"))
		report, err := checker.Wait(ctx, []health.ObjectRef{jobRef(ns, "once"), widgetRef(ns, "blocker")}, health.WaitOptions{
			Timeout: time.Minute,
			OnChange: func(s health.ObjectStatus) {
				if s.Ref.Kind == "Job" && s.Status == health.Current && s.Message == "Job completed and was deleted" {
					setWidgetStatus(t, getWidget(t, ns, "blocker"), readyCondition("True"))
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := report.Objects[0]; s.Status != health.Current || s.Message != "Job completed and was deleted" {
			t.Errorf("Job in the report: %v", s)
		}
	})
}

// TestBadInput: every mistake in what to wait for gets a clear error.
func TestBadInput(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	checker, _, _ := newChecker(t, nil)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}}
	created, err := env.Kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	configMap := health.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "settings", ResourceVersion: created.ResourceVersion}

	cases := []struct {
		name string
		refs []health.ObjectRef
		want []string
	}{
		{"unknown kind", []health.ObjectRef{{Group: "health.driftless.test", Version: "v1", Kind: "Gizmo", Namespace: ns, Name: "g"}},
			[]string{"health check Gizmo/" + ns + "/g", `no matches for kind "Gizmo"`}},
		{"namespaced kind without namespace", []health.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Name: "web"}},
			[]string{"health check Deployment/web", "Deployment is namespaced but no namespace was given"}},
		{"no name", []health.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: ns}},
			[]string{"health check ConfigMap/" + ns + "/", "no name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checker.Wait(ctx, append([]health.ObjectRef{configMap}, tc.refs...), health.WaitOptions{Timeout: time.Minute})
			mustContain(t, err, tc.want...)
		})
	}

	t.Run("nothing to wait for", func(t *testing.T) {
		report, err := checker.Wait(ctx, nil, health.WaitOptions{Timeout: time.Minute})
		if err != nil || len(report.Objects) != 0 {
			t.Errorf("Wait(nil) = %+v, %v", report, err)
		}
	})

	t.Run("a ready ConfigMap", func(t *testing.T) {
		report, err := checker.Wait(ctx, []health.ObjectRef{configMap, configMap}, health.WaitOptions{Timeout: time.Minute})
		if err != nil || len(report.Objects) != 1 || report.Objects[0].Status != health.Current {
			t.Errorf("Wait = %+v, %v; want the ConfigMap once, Current", report, err)
		}
	})

	t.Run("a cache older than the applied version is not trusted", func(t *testing.T) {
		future := configMap
		future.ResourceVersion = "99999999999"
		_, err := checker.Wait(ctx, []health.ObjectRef{future}, health.WaitOptions{Timeout: 2 * time.Second})
		mustContain(t, err, "ConfigMap/"+ns+"/settings status: 'InProgress': waiting for the watch to deliver resourceVersion 99999999999")
	})

	t.Run("an identity that may not watch", func(t *testing.T) {
		cfg := *env.Config
		cfg.Impersonate.UserName = "health-test-nobody"
		nobody, cache, _ := newChecker(t, &cfg)
		report, err := nobody.Wait(ctx, []health.ObjectRef{configMap}, health.WaitOptions{Timeout: time.Minute})
		var watchErr *health.WatchError
		if !errors.As(err, &watchErr) {
			t.Fatalf("err = %v, want *WatchError", err)
		}
		mustContain(t, err, "cannot watch configmaps in namespace "+ns+" for ConfigMap/"+ns+"/settings", "forbidden", "health-test-nobody")
		if report.Duration > 30*time.Second {
			t.Errorf("took %v to give up", report.Duration)
		}
		if s := cache.Stats(); s.Informers != 0 {
			t.Errorf("informer left running: %+v", s)
		}
	})
}
