package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options say how to start a cluster.
type Options struct {
	// DataDir keeps the cluster's state; empty means a new temporary directory
	// that Stop removes. Pass the DataDir of a stopped cluster to start it again.
	DataDir string
	// Nodes is the number of KWOK nodes; 0 means 1.
	Nodes int
	// NoCRDs skips installing the Driftless CRDs from config/crd/bases.
	NoCRDs bool
	// Apply lists more manifest files or directories to apply at start.
	Apply []string
	// StartTimeout bounds the wait for the kubeconfig; 0 means 3 minutes.
	StartTimeout time.Duration
	// Setup, used by Main, runs once the cluster is ready (to start a
	// controller manager, say); the function it returns runs after the tests,
	// before the cluster stops.
	Setup func(c *Cluster) (teardown func(), err error)
}

// Cluster is a running local control plane.
type Cluster struct {
	// Config reaches the API server as cluster-admin.
	Config *rest.Config
	// Kube is a typed client for built-in kinds.
	Kube kubernetes.Interface
	// Dynamic is a client for any kind, the Driftless CRDs included.
	Dynamic dynamic.Interface

	dataDir string
	ownsDir bool
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// Start builds (when needed) and starts a local cluster and waits until it
// has written its kubeconfig, which it does once it is ready for use.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	c := &Cluster{dataDir: opts.DataDir, exited: make(chan struct{})}
	if c.dataDir == "" {
		if c.dataDir, err = os.MkdirTemp("", "driftless-testcluster-"); err != nil {
			return nil, err
		}
		c.ownsDir = true
	}
	args, err := startArgs(c.dataDir, opts)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(c.dataDir, "localcluster.log"))
	if err != nil {
		return nil, fmt.Errorf("create cluster log: %w", err)
	}
	defer logFile.Close()

	c.cmd = exec.Command(bin, args...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	// The cluster must not outlive the test binary, even when it is killed.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start localcluster: %w", err)
	}
	go func() { c.waitErr = c.cmd.Wait(); close(c.exited) }()

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	if err := c.waitReady(ctx, timeout); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

func startArgs(dataDir string, opts Options) ([]string, error) {
	nodes := opts.Nodes
	if nodes == 0 {
		nodes = 1
	}
	args := []string{"--data-dir", dataDir, "--nodes", fmt.Sprint(nodes)}
	if !opts.NoCRDs {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		args = append(args, "--apply", filepath.Join(root, "config", "crd", "bases"))
	}
	for _, a := range opts.Apply {
		args = append(args, "--apply", a)
	}
	return args, nil
}

// waitReady waits for the kubeconfig the cluster writes when it is ready.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	kubeconfig := filepath.Join(c.dataDir, "kubeconfig")
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(kubeconfig); err == nil {
			return c.connect(kubeconfig)
		}
		select {
		case <-c.exited:
			return fmt.Errorf("localcluster exited before it was ready (%v):\n%s", c.waitErr, c.logTail())
		case <-deadline.C:
			return fmt.Errorf("localcluster not ready after %s:\n%s", timeout, c.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *Cluster) connect(kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	if c.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	c.Config = cfg
	return nil
}

// DataDir is where the cluster keeps its state, logs and kubeconfig.
func (c *Cluster) DataDir() string { return c.dataDir }

// Kubeconfig is the path of the admin kubeconfig.
func (c *Cluster) Kubeconfig() string { return filepath.Join(c.dataDir, "kubeconfig") }

// Stop ends the cluster with SIGTERM, waits for it, and removes a temporary
// data directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	return c.stop(true)
}

// StopKeepData ends the cluster but keeps its data directory, so Start can
// bring the same cluster back.
func (c *Cluster) StopKeepData() error {
	return c.stop(false)
}

func (c *Cluster) stop(removeOwned bool) error {
	var err error
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.exited:
				var exit *exec.ExitError
				if c.waitErr != nil && !errors.As(c.waitErr, &exit) {
					err = c.waitErr
				} else if exit != nil && exit.ExitCode() != 0 {
					err = fmt.Errorf("localcluster stopped with %v:\n%s", c.waitErr, c.logTail())
				}
			case <-time.After(60 * time.Second):
				_ = c.cmd.Process.Kill()
				<-c.exited
				err = fmt.Errorf("localcluster did not stop within 60s of SIGTERM; killed")
			}
		}
	}
	if removeOwned && c.ownsDir {
		_ = os.RemoveAll(c.dataDir)
		c.ownsDir = false
	}
	return err
}

// Running tells whether the localcluster process is still up.
func (c *Cluster) Running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dataDir, "localcluster.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
