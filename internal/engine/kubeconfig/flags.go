package kubeconfig

import "github.com/spf13/pflag"

// Flag names of the Policy, Flux's.
const (
	ExecFlag = "insecure-kubeconfig-exec"
	TLSFlag  = "insecure-kubeconfig-tls"
)

// Flags bind --insecure-kubeconfig-exec and --insecure-kubeconfig-tls for
// one controller group. Several groups of one process read remote
// kubeconfigs (kustomize, helm) and a flag can be registered only once:
// the first group to bind registers them, the others read the same flags,
// whichever groups --controllers selects. Policy reads their values.
type Flags struct {
	exec, tls bool
	// execFlag and tlsFlag are the flags as bound, nil before Bind.
	execFlag, tlsFlag *pflag.Flag
}

// Bind registers the two flags on fs, or shares them if another group
// registered them first.
func (f *Flags) Bind(fs *pflag.FlagSet) {
	if fs.Lookup(ExecFlag) == nil {
		fs.BoolVar(&f.exec, ExecFlag, false, "allow exec plugins in the kubeConfig secrets of Kustomizations and HelmReleases")
	}
	if fs.Lookup(TLSFlag) == nil {
		fs.BoolVar(&f.tls, TLSFlag, false, "allow kubeConfig secrets of Kustomizations and HelmReleases that skip TLS verification")
	}
	f.execFlag, f.tlsFlag = fs.Lookup(ExecFlag), fs.Lookup(TLSFlag)
}

// Policy is what the flags allow, as parsed; both off before Bind.
func (f *Flags) Policy() Policy {
	return Policy{AllowExec: isTrue(f.execFlag), AllowInsecureTLS: isTrue(f.tlsFlag)}
}

func isTrue(f *pflag.Flag) bool { return f != nil && f.Value.String() == "true" }
