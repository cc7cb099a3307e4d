package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// config is what every run shares.
type config struct {
	root    string
	dataDir string
	keep    bool
	// heapProfiles writes driftless-controller's heap profile after each
	// phase of W1 into the run's directory (-heap-profiles; keeps it).
	heapProfiles bool
	// w6Tags is how many tags each of W6's repositories holds (-w6-tags).
	w6Tags        int
	concurrent    int
	w5Source      string
	crds          int
	ctrlArgs      []string
	nodes         int
	timeout       time.Duration
	controllerBin string
	clusterBin    string
	progress      io.Writer
	// fluxDir holds Flux's controllers (-flux), "" without.
	fluxDir string
	// workload is the one being run, variant whose controllers it
	// measures: labelDriftless or labelFlux.
	workload string
	variant  string
}

func (c config) logf(format string, args ...any) {
	fmt.Fprintf(c.progress, "bench: "+format+"\n", args...)
}

// env is one run's fresh world: a cluster and, for the GitOps workloads, a
// Git server with the fleet repository and a driftless-controller.
type env struct {
	cfg     config
	dir     string
	cluster *cluster
	fleet   *fleet
	ctrl    *controller
	flux    []*controller // Flux's controllers, in the flux variant
	head    string        // the fleet's commit the GitRepository is Ready at
	ks      *tracker
}

// setup starts the run's cluster; with files, also the fleet repository
// holding them, the controller, and the GitRepository, Ready.
func (c config) setup(ctx context.Context, name string, files map[string]string) (*env, error) {
	if c.variant == labelFlux {
		name += "-flux"
	}
	dir := filepath.Join(c.dataDir, fmt.Sprintf("%s-%s", name, time.Now().Format("20060102-150405")))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	e := &env{cfg: c, dir: dir}
	c.logf("%s: starting the local cluster in %s", name, dir)
	var err error
	if e.cluster, err = startCluster(ctx, c.clusterBin, c.root, dir, c.nodes); err != nil {
		return e, err
	}
	if files == nil {
		return e, nil
	}
	if err := e.createNamespace(ctx, fleetNamespace); err != nil {
		return e, err
	}
	if e.fleet, e.head, err = newFleet(dir, files); err != nil {
		return e, err
	}
	if err := e.startControllers(ctx); err != nil {
		return e, err
	}
	repos, err := newTracker(ctx, e.cluster.dynamic, gitRepositoriesGVR(), fleetNamespace)
	if err != nil {
		return e, err
	}
	defer repos.close()
	if _, err := e.cluster.dynamic.Resource(gitRepositoriesGVR()).Namespace(fleetNamespace).Create(ctx, gitRepository(e.fleet.url()), metav1.CreateOptions{}); err != nil {
		return e, fmt.Errorf("create GitRepository: %w", err)
	}
	if err := repos.waitAll(ctx, []string{fleetNamespace + "/" + fleetSource}, readyAt(e.head), 2*time.Minute); err != nil {
		return e, fmt.Errorf("GitRepository: %w", err)
	}
	if e.ks, err = newTracker(ctx, e.cluster.dynamic, kustomizationsGVR(), fleetNamespace); err != nil {
		return e, err
	}
	return e, nil
}

// teardown stops what setup started and removes the run's directory unless
// -keep, or the run failed.
func (e *env) teardown(failed bool) {
	if e.ks != nil {
		e.ks.close()
	}
	for _, c := range append([]*controller{e.ctrl}, e.flux...) {
		if c == nil {
			continue
		}
		if err := c.stop(); err != nil {
			e.cfg.logf("%v", err)
		}
	}
	if e.fleet != nil {
		e.fleet.close()
	}
	if e.cluster != nil {
		if err := e.cluster.stop(); err != nil {
			e.cfg.logf("%v", err)
		}
	}
	if e.cfg.keep || failed {
		e.cfg.logf("kept %s", e.dir)
		return
	}
	if err := os.RemoveAll(e.dir); err != nil {
		e.cfg.logf("remove %s: %v", e.dir, err)
	}
}

// subject is the controller processes of the run: driftless-controller,
// or Flux's controllers, summed.
func (e *env) subject() subject {
	s := e.controllersSubject()
	s.apiserverPID, s.apiserver = e.cluster.apiserverPID, e.cluster.kube.CoreV1().RESTClient()
	return s
}

// controllersSubject is subject without kube-apiserver's figures.
func (e *env) controllersSubject() subject {
	return subject{procs: controllerProcs(append([]*controller{e.ctrl}, e.flux...)), byProcess: e.flux != nil}
}

// scrapeControllers reads the /metrics of the run's controllers, summed.
func (e *env) scrapeControllers(ctx context.Context) (metrics, error) {
	var sum metrics
	for _, p := range controllerProcs(append([]*controller{e.ctrl}, e.flux...)) {
		m, err := scrapeMetrics(ctx, p.metricsURL)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", p.name, err)
		}
		sum.requests += m.requests
		sum.reconcile += m.reconcile
		sum.cacheHits += m.cacheHits
		sum.cacheMisses += m.cacheMisses
		sum.found = sum.found || m.found
	}
	return sum, nil
}

// controllerProcs are the measured processes of cs (nil entries left out).
func controllerProcs(cs []*controller) []measuredProc {
	var out []measuredProc
	for _, c := range cs {
		if c != nil {
			out = append(out, measuredProc{name: c.proc.Name, pid: c.proc.PID(), metricsURL: c.metricsURL})
		}
	}
	return out
}

func (e *env) createNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := e.cluster.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// createTargetNamespaces creates the namespaces of Kustomizations 0..n-1.
func (e *env) createTargetNamespaces(ctx context.Context, n int) error {
	return parallel(ctx, 20, n, func(i int) error { return e.createNamespace(ctx, targetNamespace(i)) })
}

// createAll creates objs with 20 workers.
func (e *env) createAll(ctx context.Context, objs []*unstructured.Unstructured) error {
	return parallel(ctx, 20, len(objs), func(i int) error {
		o := objs[i]
		gvr, err := resourceOf(o.GetAPIVersion(), o.GetKind())
		if err != nil {
			return err
		}
		if _, err := e.cluster.dynamic.Resource(gvr).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		return nil
	})
}

// measure runs phase fn and returns its row: wall time, and what the
// subject spent during it.
func measure(ctx context.Context, s subject, r row, fn func() error) (row, error) {
	before, err := s.sample(ctx)
	if err != nil {
		return r, err
	}
	start := time.Now()
	if err := fn(); err != nil {
		return r, fmt.Errorf("%s N=%d %s: %w", r.Workload, r.N, r.Phase, err)
	}
	wall := time.Since(start).Seconds()
	after, err := s.sample(ctx)
	if err != nil {
		return r, err
	}
	r.WallSeconds = wall
	r.PerSecond = float64(r.Kustomizations) / wall
	r.ObjectsPerSecond = float64(r.Objects) / wall
	r.PeakRSSMiB = after.peakRSS
	r.CPUSeconds = after.cpu - before.cpu
	if after.cpuBy != nil {
		r.Processes = map[string]processCost{}
		for name, cpu := range after.cpuBy {
			r.Processes[name] = processCost{CPUSeconds: cpu - before.cpuBy[name], PeakRSSMiB: after.peakRSSBy[name]}
		}
	}
	r.APIRequests = after.requests - before.requests
	r.APIServerCPUSeconds = after.apiserverCPU - before.apiserverCPU
	r.ReconcileSeconds = after.reconcile - before.reconcile
	if after.cluster != nil {
		r.ClusterRequestsBy = map[string]float64{}
		for k, v := range after.cluster {
			if d := v - before.cluster[k]; d > 0 {
				r.ClusterRequestsBy[k] = d
				r.ClusterRequests += d
			}
		}
	}
	return r, nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx) // nil unless fn failed or ctx ended
}
