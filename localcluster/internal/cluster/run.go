package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/version"

	"github.com/driftless/driftless/localcluster/internal/kwokstage"
	"github.com/driftless/driftless/localcluster/internal/manifest"
	"github.com/driftless/driftless/localcluster/internal/pki"
	"github.com/driftless/driftless/localcluster/internal/ports"
	"github.com/driftless/driftless/localcluster/internal/supervisor"
)

// Names of the components, in start order; they name the log files too.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	KWOK              = "kwok"
)

// Subcommand is the hidden first argument that makes the binary run one
// component in-process: `localcluster component NAME FLAGS...`.
const Subcommand = "component"

const (
	// startTimeout bounds each step of the start-up.
	startTimeout = 3 * time.Minute
	// stopGrace is how long each component may take to stop on SIGTERM.
	stopGrace = 15 * time.Second
)

// SignalError is the cause of a stop requested by a signal.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return "received " + e.Signal.String() }

// Runner runs one cluster. Exe is the binary to re-execute for components.
type Runner struct {
	Options Options
	Exe     string
	Stdout  io.Writer // the ready line
	Stderr  io.Writer // lifecycle lines
}

func (r *Runner) logf(format string, args ...any) {
	fmt.Fprintf(r.Stderr, "localcluster: "+format+"\n", args...)
}

// prepared is what a run needs before the first component starts.
type prepared struct {
	layout     Layout
	lock       *os.File // held for the whole run
	objs       []*unstructured.Unstructured
	ports      ports.Set
	creds      *pki.Credentials
	kubeconfig []byte // the admin kubeconfig, written once ready
}

// prepare reads the manifests (a typo fails before anything starts), takes
// the data directory, picks the ports and writes credentials and configs.
func (r *Runner) prepare() (*prepared, error) {
	p := &prepared{layout: Layout{Dir: r.Options.DataDir}}
	var err error
	if p.objs, err = manifest.Read(r.Options.Apply); err != nil {
		return nil, err
	}
	if p.lock, err = p.layout.Prepare(); err != nil {
		return nil, err
	}
	fail := func(err error) (*prepared, error) {
		p.lock.Close()
		return nil, err
	}
	previous, err := ports.Load(p.layout.Ports())
	if err != nil {
		return fail(err)
	}
	fixed := ports.Set{}
	if r.Options.APIServerPort != 0 {
		fixed[PortAPIServer] = r.Options.APIServerPort
	}
	if p.ports, err = ports.Pick(PortNames(), previous, fixed); err != nil {
		return fail(err)
	}
	if err := p.ports.Save(p.layout.Ports()); err != nil {
		return fail(err)
	}
	if p.creds, err = pki.Ensure(p.layout.PKI(), FirstServiceIP(), time.Now()); err != nil {
		return fail(err)
	}
	if p.kubeconfig, err = writeConfigs(p.layout, url("https", p.ports[PortAPIServer]), p.creds); err != nil {
		return fail(err)
	}
	return p, nil
}

// Run starts the cluster and blocks until a signal stops it (nil) or it
// fails (the error). Every child is stopped before Run returns.
func (r *Runner) Run(parent context.Context) error {
	began := time.Now()
	p, err := r.prepare()
	if err != nil {
		return err
	}
	defer p.lock.Close()

	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	sup := supervisor.New(r.Exe, []string{Subcommand}, p.layout.Logs(), nil)
	stopWatching := r.watch(ctx, cancel, sup)
	defer stopWatching()

	ready := false
	err = r.start(ctx, p, sup)
	if err == nil {
		if err = pki.WriteFile(p.layout.Kubeconfig(), p.kubeconfig, 0o600); err == nil {
			ready = true
			fmt.Fprintf(r.Stdout, "localcluster: ready in %.1fs; export KUBECONFIG=%s\n", time.Since(began).Seconds(), p.layout.Kubeconfig())
			<-ctx.Done()
		}
	}
	if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil {
		err = cause
	}
	var sig *SignalError
	var exit *supervisor.ExitError
	switch {
	case errors.As(err, &sig):
		r.logf("%s; stopping", sig)
		err = nil
	case errors.As(err, &exit):
		r.logf("%s exited unexpectedly; stopping the other components", exit.Name)
	case err != nil:
		r.logf("start failed; stopping")
	}
	if err != nil && !ready {
		err = fmt.Errorf("the cluster did not start: %w", err)
	}
	_ = os.Remove(p.layout.Kubeconfig())
	sup.Stop(stopGrace, r.logf)
	r.logf("stopped")
	return err
}

// watch cancels ctx on the first SIGINT or SIGTERM and on the unexpected exit
// of a component; a second signal kills every component at once.
func (r *Runner) watch(ctx context.Context, cancel context.CancelCauseFunc, sup *supervisor.Supervisor) func() {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				if ctx.Err() != nil {
					r.logf("received %s again; killing every component", sig)
					sup.Kill()
					continue
				}
				cancel(&SignalError{Signal: sig})
			case p := <-sup.Exited():
				cancel(supervisor.ExitErrorOf(p))
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
	}
}

// start brings the components up one after the other, checking each, then
// creates the nodes and applies the manifests.
func (r *Runner) start(ctx context.Context, prep *prepared, sup *supervisor.Supervisor) error {
	l, p, c, objs := prep.layout, prep.ports, prep.creds, prep.objs
	plain, secure := healthClient(nil), healthClient(c.CA.CertPEM)
	if err := r.startAndWait(ctx, sup, Etcd, EtcdFlags(l, p), nil,
		httpOK(plain, url("http", p[PortEtcdClient])+"/health")); err != nil {
		return err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(prep.kubeconfig)
	if err != nil {
		return fmt.Errorf("load admin kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	if err := r.startAndWait(ctx, sup, APIServer, APIServerFlags(l, p, c), nil, apiReady(cs)); err != nil {
		return err
	}
	// The nodes exist before KWOK and the scheduler start, so neither has
	// to wait for an event to find them.
	if err := ensureNodes(ctx, cs, r.Options.Nodes, version.Get().GitVersion); err != nil {
		return err
	}
	for _, comp := range []struct {
		name  string
		flags []string
		env   []string
	}{
		{ControllerManager, ControllerManagerFlags(l, p, c), nil},
		{Scheduler, SchedulerFlags(l, p, c), nil},
		{KWOK, KWOKFlags(l, p), []string{"HOME=" + l.KWOKHome()}},
	} {
		if err := r.startComponent(sup, comp.name, comp.flags, comp.env); err != nil {
			return err
		}
	}
	if len(objs) > 0 {
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return fmt.Errorf("create client: %w", err)
		}
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
		applier := &manifest.Applier{Client: dyn, Mapper: mapper, Timeout: startTimeout}
		if err := applier.Apply(ctx, objs); err != nil {
			return fmt.Errorf("--apply: %w", err)
		}
		r.logf("applied %d objects", len(objs))
	}
	checks := []struct {
		what string
		cond func(context.Context) (bool, error)
	}{
		{ControllerManager, httpOK(secure, url("https", p[PortControllerManager])+"/healthz")},
		{Scheduler, httpOK(secure, url("https", p[PortScheduler])+"/healthz")},
		{KWOK, httpOK(plain, url("http", p[PortKWOK])+"/healthz")},
		{"nodes", nodesReady(cs, r.Options.Nodes)},
		{"default service account", defaultServiceAccount(cs)},
	}
	for _, check := range checks {
		began := time.Now()
		if err := waitFor(ctx, check.what, startTimeout, check.cond); err != nil {
			return err
		}
		r.logf("%s ready (waited %.1fs)", check.what, time.Since(began).Seconds())
	}
	return nil
}

// startComponent starts a component as a child process.
func (r *Runner) startComponent(sup *supervisor.Supervisor, name string, flags, env []string) error {
	proc, err := sup.Start(name, flags, env...)
	if err != nil {
		return err
	}
	r.logf("started %s (pid %d, log %s)", name, proc.Pid(), proc.LogFile)
	return nil
}

// startAndWait starts a component and waits until ready holds.
func (r *Runner) startAndWait(ctx context.Context, sup *supervisor.Supervisor, name string, flags, env []string,
	ready func(context.Context) (bool, error)) error {
	began := time.Now()
	if err := r.startComponent(sup, name, flags, env); err != nil {
		return err
	}
	if err := waitFor(ctx, name, startTimeout, ready); err != nil {
		return err
	}
	r.logf("%s ready in %.1fs", name, time.Since(began).Seconds())
	return nil
}

// writeConfigs writes the components' kubeconfigs and configuration files
// and returns the admin kubeconfig (written as DIR/kubeconfig only once the
// cluster is ready).
func writeConfigs(l Layout, server string, c *pki.Credentials) ([]byte, error) {
	for _, kc := range []struct {
		file string
		kp   *pki.KeyPair
	}{
		{"controller-manager.kubeconfig", c.ControllerManager},
		{"scheduler.kubeconfig", c.Scheduler},
		{"kwok.kubeconfig", c.KWOK},
	} {
		data, err := pki.Kubeconfig(server, "localcluster", c.CA.CertPEM, kc.kp)
		if err != nil {
			return nil, err
		}
		if err := pki.WriteFile(filepath.Join(l.Config(), kc.file), data, 0o600); err != nil {
			return nil, err
		}
	}
	if err := pki.WriteFile(filepath.Join(l.Config(), "scheduler.yaml"), SchedulerConfig(l), 0o644); err != nil {
		return nil, err
	}
	if err := pki.WriteFile(filepath.Join(l.Config(), "kwok.yaml"), kwokstage.Config(), 0o644); err != nil {
		return nil, err
	}
	return pki.Kubeconfig(server, "localcluster", c.CA.CertPEM, c.Admin)
}
