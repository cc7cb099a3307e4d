// Command localcluster runs a local Kubernetes control plane for Driftless:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK
// with fake nodes, each as a child process of this one binary.
//
//	localcluster --data-dir DIR [--nodes N] [--apply PATH]... [--apiserver-port P]
//
// The binary is multi-call: invoked as `localcluster component NAME FLAGS...`
// it runs that one component in-process. The supervisor uses this form to
// start its children; it is not meant to be typed by hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/driftless/driftless/localcluster/internal/cluster"
	"github.com/driftless/driftless/localcluster/internal/component"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == cluster.Subcommand {
		os.Exit(component.Run(os.Args[2], os.Args[3:]))
	}
	os.Exit(run())
}

func run() int {
	opts, err := cluster.Parse(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcluster: %v\n", err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcluster: find own executable: %v\n", err)
		return 1
	}
	r := &cluster.Runner{Options: opts, Exe: exe, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := r.Run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "localcluster: %v\n", err)
		return 1
	}
	return 0
}
