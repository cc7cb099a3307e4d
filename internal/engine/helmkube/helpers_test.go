package helmkube_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/engine/helmkube"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// timeout bounds every action of the tests; a wait that ends early does so
// for a reason the test checks, never because this passed.
const timeout = 2 * time.Minute

func newTarget(t *testing.T, cfg *rest.Config) *helmkube.Target {
	t.Helper()
	target, err := helmkube.NewTarget(cfg, helmkube.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return target
}

func actionConfig(t *testing.T, target *helmkube.Target, ns string) *action.Configuration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg, err := target.ActionConfig(helmkube.ActionOptions{Namespace: ns, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func sdkChart(t *testing.T, c *helmtest.Chart) *chartv2.Chart {
	t.Helper()
	ch, err := c.SDK()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func installAction(cfg *action.Configuration, ns, name string) *action.Install {
	inst := action.NewInstall(cfg)
	inst.ReleaseName = name
	inst.Namespace = ns
	inst.WaitStrategy = kube.StatusWatcherStrategy
	inst.Timeout = timeout
	inst.ServerSideApply = true
	return inst
}

func install(cfg *action.Configuration, ns, name string, c *chartv2.Chart, vals map[string]any) (*releasev1.Release, error) {
	rel, err := installAction(cfg, ns, name).Run(c, vals)
	return asRelease(rel), err
}

func upgrade(cfg *action.Configuration, ns, name string, c *chartv2.Chart, vals map[string]any) (*releasev1.Release, error) {
	up := action.NewUpgrade(cfg)
	up.Namespace = ns
	up.WaitStrategy = kube.StatusWatcherStrategy
	up.Timeout = timeout
	up.ServerSideApply = "auto"
	rel, err := up.RunWithContext(context.Background(), name, c, vals)
	return asRelease(rel), err
}

func asRelease(r ri.Releaser) *releasev1.Release {
	rel, _ := r.(*releasev1.Release)
	return rel
}

// helmJSON runs the real helm CLI against the test cluster and decodes its
// JSON output into out.
func helmJSON(t *testing.T, cli *helmtest.CLI, out any, args ...string) {
	t.Helper()
	args = append(args, "--kubeconfig", env.Kubeconfig(), "-o", "json")
	text := cli.Run(t, args...)
	if err := json.Unmarshal([]byte(text), out); err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, text)
	}
}

func errorAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
