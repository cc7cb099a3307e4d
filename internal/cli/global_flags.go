package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"
)

// nsFollowsKubeContextEnv is the environment variable Flux reads as
// --ns-follows-kube-context: any non-empty value turns it on.
const nsFollowsKubeContextEnv = "FLUX_NS_FOLLOWS_KUBE_CONTEXT"

// GlobalOptions are the root flags Flux's CLI has besides the kubectl
// connection flags and --timeout.
type GlobalOptions struct {
	// Verbose is --verbose: commands with more detail to show show it
	// (`flux get` prints the -o wide columns); the others accept it.
	Verbose bool
	// KubeAPIQPS and KubeAPIBurst are --kube-api-qps and --kube-api-burst,
	// the client-side rate limit of requests to the API server.
	KubeAPIQPS   float32
	KubeAPIBurst int
	// NsFollowsKubeContext is --ns-follows-kube-context: whether the kube
	// context's namespace is the default of -n. nsFollowsSet records that
	// the flag was given, so it wins over the environment.
	NsFollowsKubeContext bool
	nsFollowsSet         bool
}

// DefaultGlobalOptions are the defaults of Flux's CLI, except that the kube
// context's namespace is followed by default, as kubectl does.
func DefaultGlobalOptions() GlobalOptions {
	return GlobalOptions{KubeAPIQPS: 50, KubeAPIBurst: 300, NsFollowsKubeContext: true}
}

// addGlobalFlags adds the GlobalOptions flags to the root's persistent flags.
func addGlobalFlags(fs *pflag.FlagSet, f *Factory) {
	g := &f.Global
	fs.BoolVar(&g.Verbose, "verbose", g.Verbose, "print more detail where a command has it (flux get: the -o wide columns)")
	fs.Float32Var(&g.KubeAPIQPS, "kube-api-qps", g.KubeAPIQPS, "maximum queries per second to the Kubernetes API server")
	fs.IntVar(&g.KubeAPIBurst, "kube-api-burst", g.KubeAPIBurst, "maximum burst of queries to the Kubernetes API server above --kube-api-qps")
	fs.Var(&nsFollowsFlag{g}, "ns-follows-kube-context",
		"use the kube context's namespace when -n is not given (Driftless's default; set it to false for Flux's, flux-system; env "+
			nsFollowsKubeContextEnv+")")
	fs.Lookup("ns-follows-kube-context").NoOptDefVal = "true"
}

// followsKubeContext is whether the kube context's namespace is the default:
// --ns-follows-kube-context when given, else true when
// FLUX_NS_FOLLOWS_KUBE_CONTEXT is set (as in Flux), else Driftless's
// default, true.
func (f *Factory) followsKubeContext() bool {
	g := f.Global
	if g.nsFollowsSet {
		return g.NsFollowsKubeContext
	}
	if f.Getenv(nsFollowsKubeContextEnv) != "" {
		return true
	}
	return g.NsFollowsKubeContext
}

func (g GlobalOptions) validate() error {
	if g.KubeAPIQPS <= 0 {
		return fmt.Errorf("invalid --kube-api-qps %v: give a number of queries per second above 0 (Flux's default is 50)", g.KubeAPIQPS)
	}
	if g.KubeAPIBurst <= 0 {
		return fmt.Errorf("invalid --kube-api-burst %d: give a number of queries above 0 (Flux's default is 300)", g.KubeAPIBurst)
	}
	return nil
}

// nsFollowsFlag is --ns-follows-kube-context, a boolean flag that records
// whether it was given.
type nsFollowsFlag struct{ g *GlobalOptions }

func (n *nsFollowsFlag) String() string {
	if n.g == nil {
		return "true"
	}
	return fmt.Sprint(n.g.NsFollowsKubeContext)
}

func (n *nsFollowsFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not a boolean: use true or false", s)
	}
	n.g.NsFollowsKubeContext, n.g.nsFollowsSet = v, true
	return nil
}

func (n *nsFollowsFlag) Type() string { return "bool" }

// IsBoolFlag lets the flag be given without a value.
func (n *nsFollowsFlag) IsBoolFlag() bool { return true }

// contextNamespace is the namespace the kube context (--context, else the
// current one) names, "" for none. The loader's own Namespace cannot tell
// it from kubectl's "default" for a context without one.
func (f *Factory) contextNamespace() (string, error) {
	raw, err := f.Kube.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	name := raw.CurrentContext
	if f.Kube.Context != nil && *f.Kube.Context != "" {
		name = *f.Kube.Context
	}
	if c, ok := raw.Contexts[name]; ok {
		return c.Namespace, nil
	}
	return "", nil
}
