package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/scheme"
)

// DefaultNamespace is the namespace of Flux's control plane, used when
// neither -n nor the kube context names one.
const DefaultNamespace = "flux-system"

// Factory gives commands what they need from their environment: streams,
// the kubectl-style connection flags, and clients built from them on demand.
// Every command gets it as an argument; nothing is global.
type Factory struct {
	In       io.Reader
	Out, Err io.Writer
	// Kube holds --kubeconfig, --context, -n and the other kubectl flags.
	Kube *genericclioptions.ConfigFlags
	// Timeout bounds the commands that wait (--timeout).
	Timeout time.Duration
	// Getenv reads the environment (FLUX_SYSTEM_NAMESPACE...); os.Getenv by default.
	Getenv func(string) string
	// Global are --verbose, --kube-api-qps, --kube-api-burst and
	// --ns-follows-kube-context (global_flags.go).
	Global GlobalOptions

	once   sync.Once
	client client.WithWatch
	err    error
}

// NewFactory returns a Factory on the given streams.
func NewFactory(in io.Reader, out, errOut io.Writer) *Factory {
	return &Factory{
		In: in, Out: out, Err: errOut,
		Kube:    genericclioptions.NewConfigFlags(true),
		Timeout: 5 * time.Minute,
		Getenv:  os.Getenv,
		Global:  DefaultGlobalOptions(),
	}
}

// RESTConfig is the connection the kubectl flags describe.
func (f *Factory) RESTConfig() (*rest.Config, error) {
	cfg, err := f.Kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to: %w (set --kubeconfig or KUBECONFIG)", err)
	}
	// client-go's default of 5 queries per second makes discovery and an
	// install of some thirty objects take many seconds; allow what Flux's
	// CLI allows (--kube-api-qps 50, --kube-api-burst 300).
	if err := f.Global.validate(); err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = f.Global.KubeAPIQPS, f.Global.KubeAPIBurst
	return cfg, nil
}

// Client returns a client that knows every Driftless and built-in kind.
func (f *Factory) Client() (client.WithWatch, error) {
	f.once.Do(func() {
		cfg, err := f.RESTConfig()
		if err != nil {
			f.err = err
			return
		}
		s, err := scheme.New()
		if err != nil {
			f.err = err
			return
		}
		f.client, f.err = client.NewWithWatch(cfg, client.Options{Scheme: s})
	})
	return f.client, f.err
}

// Namespace is where namespaced commands act: -n, else the kube context's
// namespace (kubectl's convention, which Flux's CLI follows only with
// --ns-follows-kube-context; --ns-follows-kube-context=false turns it off
// here), else flux-system.
func (f *Factory) Namespace() (string, error) {
	if f.Kube.Namespace != nil && *f.Kube.Namespace != "" {
		return *f.Kube.Namespace, nil
	}
	if f.followsKubeContext() {
		ns, err := f.contextNamespace()
		if err != nil {
			return "", err
		}
		if ns != "" {
			return ns, nil
		}
	}
	return DefaultNamespace, nil
}

// SystemNamespace is where the controllers run, for control-plane commands
// (install, check, logs): -n, else FLUX_SYSTEM_NAMESPACE, else flux-system.
func (f *Factory) SystemNamespace() string {
	if f.Kube.Namespace != nil && *f.Kube.Namespace != "" {
		return *f.Kube.Namespace
	}
	if ns := f.Getenv("FLUX_SYSTEM_NAMESPACE"); ns != "" {
		return ns
	}
	return DefaultNamespace
}

// clientAndNamespace is Client and Namespace, what most commands start with.
func clientAndNamespace(f *Factory) (client.WithWatch, string, error) {
	c, err := f.Client()
	if err != nil {
		return nil, "", err
	}
	ns, err := f.Namespace()
	return c, ns, err
}
