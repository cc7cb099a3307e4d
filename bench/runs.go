package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/engine/apply"
)

// Client settings of W0's applier: driftless-controller's defaults
// (--kube-api-qps, --kube-api-burst, per kind as its applier has them), so
// that W0 is W1's floor.
const (
	controllerQPS   = 50
	controllerBurst = 300
	applyWorkers    = 20
)

// w1Kustomizations are W1's n Kustomizations, all of one path of the
// one source.
func w1Kustomizations(n int) []*unstructured.Unstructured {
	kss := make([]*unstructured.Unstructured, 0, n)
	for i := range n {
		kss = append(kss, kustomization(i, w1Path, -1, "1m"))
	}
	return kss
}

// runW1 is Flux's benchmark: n Kustomizations of one path on one source.
// W4 is the same world with only the upgrade reported.
func (c config) runW1(ctx context.Context, workload string, n int) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("%s-n%d", workload, n), w1Files(1))
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, n); err != nil {
		return nil, err
	}
	kss := w1Kustomizations(n)
	keys := keysOf(kss)
	base := row{Workload: workload, N: n, Kustomizations: n, Objects: n * w1Objects}
	alerts, err := e.alertsFor(ctx, workload)
	if err != nil {
		return nil, err
	}
	defer alerts.close()

	c.logf("%s N=%d: install", workload, n)
	install := base
	install.Phase = "install"
	if err := alerts.start(ctx); err != nil {
		return nil, err
	}
	install, err = measure(ctx, e.subject(), install, func() error {
		if err := e.createAll(ctx, kss); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keys, readyAt(e.head), c.timeout)
	})
	if err != nil {
		return nil, err
	}
	if err := alerts.account(ctx, &install); err != nil {
		return nil, err
	}
	if err := e.saveHeap(ctx, "install"); err != nil {
		return nil, err
	}
	if workload != "W4" {
		rows = append(rows, install)
	}

	c.logf("%s N=%d: upgrade", workload, n)
	if err := alerts.start(ctx); err != nil {
		return rows, err
	}
	upgrade, err := e.upgrade(ctx, base, keys, w1Files(2))
	if err != nil {
		return rows, err
	}
	if err := alerts.account(ctx, &upgrade); err != nil {
		return rows, err
	}
	if err := e.saveHeap(ctx, "upgrade"); err != nil {
		return rows, err
	}
	return append(rows, upgrade), nil
}

// upgrade commits files, then times the push and a requestedAt on the
// GitRepository until every Kustomization of keys is Ready at the commit.
func (e *env) upgrade(ctx context.Context, base row, keys []string, files map[string]string) (row, error) {
	head, err := e.fleet.commit(files, "bench: upgrade every object")
	if err != nil {
		return base, err
	}
	r := base
	r.Phase = "upgrade"
	return measure(ctx, e.subject(), r, func() error {
		if err := e.fleet.push(); err != nil {
			return err
		}
		if err := requestReconcile(ctx, e.cluster.dynamic, fleetSource); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keys, readyAt(head), e.cfg.timeout)
	})
}

// runW2 is one Kustomization of objects objects of mixed kinds.
func (c config) runW2(ctx context.Context, objects int) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("W2-n%d", objects), w2Files(objects, 1))
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, 1); err != nil {
		return nil, err
	}
	ks := kustomization(0, w2Path, -1, c.timeout.String())
	keys := keysOf([]*unstructured.Unstructured{ks})
	base := row{Workload: "W2", N: objects, Kustomizations: 1, Objects: objects}
	c.logf("W2 N=%d: install", objects)
	install := base
	install.Phase = "install"
	install, err = measure(ctx, e.subject(), install, func() error {
		if err := e.createAll(ctx, []*unstructured.Unstructured{ks}); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keys, readyAt(e.head), c.timeout)
	})
	if err != nil {
		return nil, err
	}
	c.logf("W2 N=%d: upgrade", objects)
	upgrade, err := e.upgrade(ctx, base, keys, w2Files(objects, 2))
	if err != nil {
		return []row{install}, err
	}
	return []row{install, upgrade}, nil
}

// runW3 is a chain of n Kustomizations, each depending on the one before:
// from the first create to the last Ready.
func (c config) runW3(ctx context.Context, n int) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("W3-n%d", n), w1Files(1))
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, n); err != nil {
		return nil, err
	}
	var kss []*unstructured.Unstructured
	for i := range n {
		kss = append(kss, kustomization(i, w1Path, i-1, "1m"))
	}
	keys := keysOf(kss)
	c.logf("W3 N=%d: install", n)
	r := row{Workload: "W3", N: n, Phase: "install", Kustomizations: n, Objects: n * w1Objects}
	r, err = measure(ctx, e.subject(), r, func() error {
		if err := e.createAll(ctx, kss); err != nil {
			return err
		}
		return e.ks.waitAll(ctx, keys, readyAt(e.head), c.timeout)
	})
	if err != nil {
		return nil, err
	}
	return []row{r}, nil
}

// runW0 applies W1's objects, rendered, server-side with the controller's
// client settings and 20 workers, until every Deployment is Available: no
// GitOps, the floor for W1. The measured process is the bench itself.
func (c config) runW0(ctx context.Context, n int) (rows []row, err error) {
	e, err := c.setup(ctx, fmt.Sprintf("W0-n%d", n), nil)
	if e != nil {
		defer func() { e.teardown(err != nil) }()
	}
	if err != nil {
		return nil, err
	}
	if err := e.createTargetNamespaces(ctx, n); err != nil {
		return nil, err
	}
	var requests atomic.Int64
	cfg := rest.CopyConfig(e.cluster.config)
	cfg.QPS, cfg.Burst = controllerQPS, controllerBurst
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, n: &requests} })
	applier, err := apply.NewKindClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("applier client: %w", err)
	}
	deployments, err := newTracker(ctx, e.cluster.dynamic, deploymentsGVR(), "")
	if err != nil {
		return nil, err
	}
	defer deployments.close()
	self := subject{counter: &requests, apiserverPID: e.cluster.apiserverPID, apiserver: e.cluster.kube.CoreV1().RESTClient()}
	for v, phase := range []string{"install", "upgrade"} {
		var objs, deploys []*unstructured.Unstructured
		for i := range n {
			o, err := renderW1(i, v+1)
			if err != nil {
				return rows, err
			}
			objs = append(objs, o...)
		}
		for _, o := range objs {
			if o.GetKind() == "Deployment" {
				deploys = append(deploys, o)
			}
		}
		c.logf("W0 N=%d: %s", n, phase)
		r := row{Workload: "W0", N: n, Phase: phase, Kustomizations: n, Objects: len(objs)}
		r, err = measure(ctx, self, r, func() error {
			if err := parallel(ctx, applyWorkers, len(objs), func(i int) error { return applyObject(ctx, applier, objs[i]) }); err != nil {
				return err
			}
			return deployments.waitAll(ctx, keysOf(deploys), deploymentAvailable, c.timeout)
		})
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// applyObject applies o server-side, as the controller does.
func applyObject(ctx context.Context, client dynamic.Interface, o *unstructured.Unstructured) error {
	gvr, err := resourceOf(o.GetAPIVersion(), o.GetKind())
	if err != nil {
		return err
	}
	_, err = client.Resource(gvr).Namespace(o.GetNamespace()).Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "bench", Force: true})
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
	return nil
}
