package helmkube_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/kube"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// TestHealthCheckExprs: the configuration's healthCheckExprs decide the
// readiness of the kinds they match, here failing a Gizmo whose phase says so.
func TestHealthCheckExprs(t *testing.T) {
	ns := env.Namespace(t)
	group := strings.ToLower(t.Name()) + ".driftless.dev"
	createCRD(t, group, "Gizmo")
	chart := helmtest.NewChart("gizmos", "1.0.0").Template("gizmo.yaml", fmt.Sprintf(`apiVersion: %s/v1
kind: Gizmo
metadata:
  name: {{ .Release.Name }}
status:
  phase: {{ .Values.phase }}
`, group))
	target := newTarget(t, env.Config)
	checks := []meta.CustomHealthCheck{{
		APIVersion: group + "/v1",
		Kind:       "Gizmo",
		HealthCheckExpressions: meta.HealthCheckExpressions{
			Current: "status.phase == 'Running'",
			Failed:  "status.phase == 'Broken'",
		},
	}}
	cfg, err := target.ActionConfig(helmkube.ActionOptions{Namespace: ns, HealthCheckExprs: checks})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := install(cfg, ns, "good", sdkChart(t, chart), map[string]any{"phase": "Running"}); err != nil {
		t.Errorf("install of a Running gizmo: %v", err)
	}
	_, err = install(cfg, ns, "bad", sdkChart(t, chart), map[string]any{"phase": "Broken"})
	if failed, ok := errorAs[*health.FailedError](err); !ok || len(failed.Failed) != 1 || failed.Failed[0].Ref.Name != "bad" {
		t.Errorf("install of a Broken gizmo: %v, want a *health.FailedError naming Gizmo bad", err)
	}
}

// TestContextEndsWaits: cancelling the configuration's context ends its
// waits at once.
func TestContextEndsWaits(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithCancel(context.Background())
	cfg, err := newTarget(t, env.Config).ActionConfig(helmkube.ActionOptions{Namespace: ns, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	resources := create(t, cfg.KubeClient, hookPod("waiting"))
	waiter := getWaiter(t, cfg.KubeClient, kube.StatusWatcherStrategy)
	done := make(chan error, 1)
	go func() { done <- waiter.WatchUntilReady(resources, timeout) }()
	cancel()
	if err := <-done; !errors.Is(err, health.ErrCanceled) {
		t.Errorf("wait after cancelling its context: %v, want health.ErrCanceled", err)
	}
}
