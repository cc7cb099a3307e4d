// Command driftless-demo runs a local GitOps loop in one command: a local
// Kubernetes cluster, a Git server holding examples/fleet, driftless-controller
// as a local process and `flux bootstrap git`, then waits until every
// Kustomization is Ready. It runs until interrupted (or, with
// --exit-when-ready, until all is Ready) and stops everything it started.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/demo"
)

func main() {
	os.Exit(run())
}

func run() int {
	opts := demo.Options{Out: os.Stdout}
	fs := pflag.NewFlagSet("driftless-demo", pflag.ContinueOnError)
	fs.StringVar(&opts.DataDir, "data-dir", ".cache/demo", "directory for the cluster, Git repository, keys and logs; emptied at start")
	fs.StringVar(&opts.RepoRoot, "repo-root", "", "the Driftless checkout holding examples/fleet (default: the parent of the binary's directory)")
	fs.IntVar(&opts.Nodes, "nodes", 2, "number of fake (KWOK) nodes")
	fs.BoolVar(&opts.ExitWhenReady, "exit-when-ready", false, "stop everything and exit 0 once every Kustomization is Ready")
	fs.DurationVar(&opts.ReadyTimeout, "timeout", 0, "how long to wait for every Kustomization to be Ready (default 10m)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "driftless-demo: unexpected arguments %v\n", fs.Args())
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "driftless-demo: %v\n", err)
		return 1
	}
	opts.Executable = exe
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "driftless-demo: %v\n", err)
		return 1
	}
	return 0
}
