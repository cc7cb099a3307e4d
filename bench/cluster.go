package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/driftless/driftless/internal/testkit/child"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// startProc runs a child of the benchmark: nothing it starts may outlive
// it, even when it is killed, and the issue measures with GOMAXPROCS unset
// (every core, as deployed).
func startProc(name, logPath, bin string, args ...string) (*child.Process, error) {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	return startProcEnv(name, logPath, bin, env, args...)
}

// startProcEnv is startProc with the child's whole environment given.
func startProcEnv(name, logPath, bin string, env []string, args ...string) (*child.Process, error) {
	p, err := child.Start(name, logPath, bin, args, child.Options{Env: env})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// cluster is a running bin/localcluster with clients for it.
type cluster struct {
	proc         *child.Process
	kubeconfig   string
	config       *rest.Config
	kube         kubernetes.Interface
	dynamic      dynamic.Interface
	apiserverPID int
}

// startCluster runs localcluster with the Driftless CRDs and waits until it
// writes its kubeconfig.
func startCluster(ctx context.Context, bin, root, dir string, nodes int) (*cluster, error) {
	dataDir := filepath.Join(dir, "cluster")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create cluster data dir: %w", err)
	}
	p, err := startProc("localcluster", filepath.Join(dir, "localcluster.log"), bin,
		"--data-dir", dataDir, "--nodes", strconv.Itoa(nodes),
		"--apply", filepath.Join(root, "config", "crd", "bases"))
	if err != nil {
		return nil, err
	}
	c := &cluster{proc: p, kubeconfig: filepath.Join(dataDir, "kubeconfig")}
	if err := c.waitKubeconfig(ctx, 3*time.Minute); err != nil {
		_ = p.Stop(time.Minute)
		return nil, err
	}
	if c.apiserverPID, err = childPID(p.PID(), "kube-apiserver"); err != nil {
		_ = p.Stop(time.Minute)
		return nil, fmt.Errorf("find kube-apiserver: %w", err)
	}
	return c, nil
}

func (c *cluster) waitKubeconfig(ctx context.Context, timeout time.Duration) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(c.kubeconfig); err == nil {
			return c.connect()
		}
		select {
		case <-c.proc.Exited():
			return fmt.Errorf("localcluster exited before it was ready (%v):\n%s", c.proc.Err(), c.proc.Tail(30))
		case <-deadline:
			return fmt.Errorf("localcluster not ready after %s:\n%s", timeout, c.proc.Tail(30))
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *cluster) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return fmt.Errorf("load %s: %w", c.kubeconfig, err)
	}
	// The bench's own bookkeeping (watches, namespaces) must not be the
	// bottleneck; W0's applier gets the controller's settings instead.
	cfg.QPS, cfg.Burst = 500, 1000
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	c.config = cfg
	return nil
}

func (c *cluster) stop() error { return c.proc.Stop(time.Minute) }

// controller is a running driftless-controller.
type controller struct {
	proc       *child.Process
	metricsURL string
}

// startController runs driftless-controller against the cluster on free
// loopback ports and waits until it reports ready.
func startController(ctx context.Context, bin, kubeconfig, dir string, concurrent int, extra ...string) (*controller, error) {
	ports, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	storage, metrics, health := ports[0], ports[1], ports[2]
	args := append([]string{
		"--kubeconfig", kubeconfig,
		"--concurrent", strconv.Itoa(concurrent),
		"--storage-path", filepath.Join(dir, "storage"), "--image-storage-path", filepath.Join(dir, "images"),
		"--storage-addr", storage, "--storage-adv-addr", storage,
		"--metrics-addr", metrics, "--health-addr", health, "--enable-pprof",
		"--events-listen-addr", "0", "--receiver-addr", "0",
		"--log-encoding", "json"}, extra...)
	p, err := startProc("driftless-controller", filepath.Join(dir, "controller.log"), bin, args...)
	if err != nil {
		return nil, err
	}
	c := &controller{proc: p, metricsURL: "http://" + metrics + "/metrics"}
	if err := waitHTTP(ctx, p, "http://"+health+"/readyz", time.Minute); err != nil {
		_ = p.Stop(10 * time.Second)
		return nil, err
	}
	return c, nil
}

func (c *controller) stop() error { return c.proc.Stop(30 * time.Second) }

// waitHTTP waits until url answers 200, or p exits.
func waitHTTP(ctx context.Context, p *child.Process, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s after %s:\n%s", p.Name, url, timeout, p.Tail(30))
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("%s exited (%v):\n%s", p.Name, p.Err(), p.Tail(30))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freeAddrs returns n distinct free loopback addresses.
func freeAddrs(n int) ([]string, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// buildBinaries builds driftless-controller into dir and returns its path
// and the localcluster binary's (made when out of date).
//
// The controller is built as the image ships it (make image, the
// Dockerfile): static, without cgo, stripped. With cgo, kustomize's import of
// Go's plugin package makes the linker export every symbol into a dynamic
// symbol table (18 MB of a 165 MB executable) that the loader reads at
// start, and the binary's resident file pages alone came to 91 MiB of the
// 175 MiB peak W1 measured at N=500: a figure of this machine's compiler,
// not of what runs in a cluster.
func buildBinaries(ctx context.Context, root, dir string) (controllerBin, clusterBin string, err error) {
	controllerBin = filepath.Join(dir, "driftless-controller")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", controllerBin, "./cmd/driftless-controller")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build driftless-controller: %w\n%s", err, out)
	}
	// testcluster.Binary runs make under a lock shared with the tests.
	if clusterBin, err = testcluster.Binary(); err != nil {
		return "", "", fmt.Errorf("build localcluster: %w", err)
	}
	return controllerBin, clusterBin, nil
}
